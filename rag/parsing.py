"""Bramki i parsowanie plików: rozmiar, sygnatura typu, kontrola ZIP, parser w procesie potomnym z limitami.

Uruchamiany jako `python -m rag.parsing KIND` czyta plik ze stdin i wypisuje JSON ze stronami na stdout; nie importuje
Django, żeby start procesu był krótki, a zasoby ograniczone od pierwszej instrukcji.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".txt": "txt", ".md": "md", ".markdown": "md"}
_BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\x89PNG", b"\xff\xd8\xff")
TEXT_ENCODINGS = ("utf-8-sig", "cp1250", "iso-8859-2")
_XML_HEAD_BYTES = 8192


class ParseFailure(Exception):
    """Plik odrzucony albo nieczytelny: kod powodu i zdanie dla badacza."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Limity bramek i procesu parsującego (z `features.yaml`, sekcja `knowledge`)."""

    max_text_chars: int = 5_000_000
    docx_max_entries: int = 2000
    docx_max_uncompressed: int = 200 * 2**20
    docx_max_ratio: int = 100
    memory_bytes: int = 768 * 2**20
    cpu_seconds: int = 20
    timeout_seconds: int = 30
    pdf_max_pages: int = 2000


def kind_for_name(name: str) -> str | None:
    """Typ dokumentu z rozszerzenia nazwy pliku albo None dla nieobsługiwanego."""
    return EXTENSIONS.get(Path(name).suffix.lower())


def check_signature(data: bytes, kind: str) -> None:
    """Sygnatura (magic bytes) zgodna z typem z rozszerzenia; plik pusty albo inny typ to porażka."""
    if not data.strip():
        raise ParseFailure("empty", "The file is empty.")
    if kind == "pdf" and not data[:1024].lstrip().startswith(b"%PDF-"):
        raise ParseFailure("type_mismatch", "The file is not a PDF although its name says so.")
    if kind == "docx" and not data.startswith(b"PK\x03\x04"):
        raise ParseFailure("type_mismatch", "The file is not a Word (DOCX) document although its name says so.")
    if kind in ("txt", "md") and (data.startswith(_BINARY_SIGNATURES) or b"\x00" in data[:8192]):
        raise ParseFailure("type_mismatch", "The file is binary, not plain text.")


def check_docx_archive(data: bytes, limits: Limits) -> None:
    """Kontrola ZIP przed parsowaniem DOCX na zadeklarowanych rozmiarach: liczba wpisów, suma i stopień kompresji."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ParseFailure("corrupt", "The Word document is damaged (not a valid ZIP archive).") from exc
    if len(entries) > limits.docx_max_entries:
        raise ParseFailure("too_large_unpacked", "The Word document has too many parts.")
    declared = sum(e.file_size for e in entries)
    compressed = sum(e.compress_size for e in entries)
    if declared > limits.docx_max_uncompressed or declared > limits.docx_max_ratio * max(compressed, 1):
        raise ParseFailure("too_large_unpacked", "The Word document is too large after decompression.")
    if "word/document.xml" not in {e.filename for e in entries}:
        raise ParseFailure("type_mismatch", "The file is a ZIP archive but not a Word (DOCX) document.")


def parse(data: bytes, kind: str, limits: Limits) -> list[str]:
    """Wszystkie bramki po limicie rozmiaru: sygnatura, kontrola ZIP, parser w procesie potomnym, limit tekstu.

    Zwraca teksty stron (DOCX, TXT i Markdown to jedna strona).
    """
    check_signature(data, kind)
    if kind == "docx":
        check_docx_archive(data, limits)
    pages = _run_child(data, kind, limits)
    total = sum(len(p) for p in pages)
    if total > limits.max_text_chars:
        raise ParseFailure("too_much_text", "The document holds more text than the knowledge base accepts.")
    if not any(p.strip() for p in pages):
        if kind == "pdf":
            raise ParseFailure("no_text_layer", "The PDF has no text layer (probably scanned); OCR is not supported.")
        raise ParseFailure("no_text", "The document contains no text.")
    return pages


def _run_child(data: bytes, kind: str, limits: Limits) -> list[str]:
    """Uruchamia parser dokumentu w procesie potomnym; wynik to teksty stron."""
    cap = limits.max_text_chars * 4 + 4096
    result = run_child("rag.parsing", [kind, *map(str, _child_args(limits))], data, limits.timeout_seconds, cap)
    if "pages" not in result:
        raise ParseFailure("parser_error", "The document could not be read.")
    return [str(p) for p in result["pages"]]


def run_child(module: str, args: list[str], data: bytes, timeout_seconds: int, output_cap: int) -> dict[str, Any]:
    """`python -m MODULE ARGS` z plikiem na stdin i JSON-em na stdout (moduł sam ustawia sobie limity `limit_self`).

    Przekroczony limit, sygnał, błąd zgłoszony przez moduł (`{"error", "message"}`) albo nieczytelny wynik to
    `ParseFailure`, nigdy wyjątek wykonawcy. Wspólne dla dokumentów bazy wiedzy i plików z danymi ankiet.
    """
    root = Path(__file__).resolve().parent.parent
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root), "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            input=data,
            capture_output=True,
            timeout=timeout_seconds,
            cwd=root,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ParseFailure("timeout", "Reading the document took too long.") from exc
    if done.returncode < 0 or done.returncode in (137, 152):
        raise ParseFailure("resources", "Reading the document exceeded the memory or time limit.")
    try:
        result = json.loads(done.stdout[:output_cap] or b"{}")
    except ValueError as exc:
        raise ParseFailure("parser_error", "The document could not be read.") from exc
    if not isinstance(result, dict):
        raise ParseFailure("parser_error", "The document could not be read.")
    if "error" in result:
        raise ParseFailure(result["error"], result.get("message", "The document could not be read."))
    if done.returncode != 0:
        raise ParseFailure("parser_error", "The document could not be read.")
    return result


def _child_args(limits: Limits) -> tuple[int, ...]:
    return (limits.max_text_chars, limits.pdf_max_pages, limits.memory_bytes, limits.cpu_seconds)


def limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """Limity procesu parsującego ustawiane przez niego samego przed importem parsera.

    Nie w `preexec_fn`: wykonawca RQ ma wątek heartbeatu, a `preexec_fn` po fork w procesie z wątkami może się
    zakleszczyć.
    """
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # parser nie zapisuje żadnego pliku
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- w procesie potomnym ----------------------------------------------------------------------------------------


def _pdf_pages(data: bytes, max_chars: int, max_pages: int) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    _lower_pdf_limits()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ParseFailure("encrypted", "The PDF is password-protected (encrypted).")
        if len(reader.pages) > max_pages:
            raise ParseFailure("too_many_pages", "The PDF has too many pages.")
        pages, total = [], 0
        for page in reader.pages:
            # extract_text połyka przekroczenie limitu dekodera i zwraca pusty tekst; jawne dekodowanie je ujawnia.
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
            text = page.extract_text() or ""
            total += len(text)
            if total > max_chars:
                raise ParseFailure("too_much_text", "The document holds more text than the knowledge base accepts.")
            pages.append(text)
        return pages
    except LimitReachedError as exc:
        raise ParseFailure("too_large_unpacked", "The document is too large after decompression.") from exc
    except FileNotDecryptedError as exc:
        raise ParseFailure("encrypted", "The PDF is password-protected (encrypted).") from exc
    except PdfReadError as exc:
        raise ParseFailure("corrupt", "The PDF is damaged and cannot be read.") from exc


def _lower_pdf_limits() -> None:
    """Niższe limity dekoderów pypdf: bomba kompresyjna kończy się wyjątkiem, zanim zabraknie pamięci."""
    from pypdf import overwrite_configuration

    stream = 20 * 2**20
    overwrite_configuration(
        zlib_maximum_output_length=stream,
        lzw_maximum_output_length=stream,
        run_length_maximum_output_length=stream,
        brotli_maximum_output_length=stream,
        jbig2_maximum_output_length=stream,
        array_based_stream_maximum_output_length=stream,
        maximum_declared_stream_length=stream,
        stream_decoding_work_maximum_length=100 * 2**20,
    )


def _reject_xml_declarations(data: bytes) -> None:
    """Odrzuca DOCX z deklaracją DOCTYPE w którejkolwiek części XML (Word jej nigdy nie zapisuje).

    Encje z DOCTYPE to droga do XXE (odczyt plików serwera) i „billion laughs” (wykładnicze rozwinięcie), więc plik
    z nimi kończy się porażką, zanim zobaczy go parser XML. DOCTYPE stoi przed elementem głównym: wystarcza początek
    każdej części, czytany strumieniowo (rozpakowanie ograniczone do kilku KB, także gdy nagłówki kłamią).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if not entry.filename.lower().endswith((".xml", ".rels")):
                continue
            with archive.open(entry) as part:
                head = part.read(_XML_HEAD_BYTES)
            if b"<!doctype" in head.lower() or b"<!entity" in head.lower():
                raise ParseFailure("unsafe_xml", "The Word document declares XML entities (DOCTYPE); it was rejected.")


def _docx_pages(data: bytes, max_chars: int) -> list[str]:
    import docx

    _reject_xml_declarations(data)
    document = docx.Document(io.BytesIO(data))
    parts, total = [], 0
    for block in _docx_blocks(document):
        total += len(block) + 1
        if total > max_chars:
            raise ParseFailure("too_much_text", "The document holds more text than the knowledge base accepts.")
        parts.append(block)
    return ["\n\n".join(p for p in parts if p.strip())]


def _docx_blocks(document: object) -> list[str]:
    """Akapity i wiersze tabel w kolejności dokumentu."""
    blocks = [p.text for p in document.paragraphs]  # type: ignore[attr-defined]
    for table in document.tables:  # type: ignore[attr-defined]
        blocks.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return blocks


def decode_text(data: bytes) -> str:
    """Tekst z bajtów: UTF-8 (z BOM lub bez), a gdy się nie da, polskie strony kodowe cp1250 i ISO-8859-2."""
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _main(kind: str, max_chars: int, max_pages: int, memory_bytes: int, cpu_seconds: int) -> int:
    limit_self(memory_bytes, cpu_seconds)
    data = sys.stdin.buffer.read()
    try:
        if kind == "pdf":
            pages = _pdf_pages(data, max_chars, max_pages)
        elif kind == "docx":
            pages = _docx_pages(data, max_chars)
        else:
            pages = [decode_text(data).replace("\r\n", "\n")]
    except ParseFailure as exc:
        result: dict[str, object] = {"error": exc.code, "message": exc.message}
    except MemoryError:
        result = {"error": "resources", "message": "Reading the document exceeded the memory limit."}
    except Exception as exc:  # noqa: BLE001 - każdy błąd parsera to nieczytelny plik, nie awaria
        too_big = "limit" in type(exc).__name__.lower() or "amplification" in str(exc).lower()
        result = (
            {"error": "too_large_unpacked", "message": "The document is too large after decompression."}
            if too_big
            else {"error": "corrupt", "message": "The document is damaged and cannot be read."}
        )
    else:
        result = {"pages": pages}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], *map(int, sys.argv[2:6])))
