"""Modele grafu dokumentów: encje i relacje projektu, dowody we fragmentach i stan ekstrakcji fragmentu.

PostgreSQL jest źródłem prawdy; graf (Neo4j/FalkorDB) jest z tych wierszy odbudowywany. Encja to (projekt, klucz
kanoniczny z lematów, typ); liczności są zawsze liczone z dowodów, więc usunięcie dokumentu (kaskada fragmentów i
dowodów) i sprzątnięcie encji bez dowodów przelicza je same.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sight.models import Project


class DocEntity(models.Model):
    """Encja nazwana w dokumentach projektu (organizacja, osoba, produkt, marka, miejsce, pojęcie…)."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", verbose_name=_("project"))
    key = models.CharField(_("canonical key (lemmas)"), max_length=200)
    words = ArrayField(models.CharField(max_length=100), default=list, verbose_name=_("key words"))
    entity_type = models.CharField(_("entity type"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("document entity")
        verbose_name_plural = _("document entities")
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key", "entity_type"], name="docentity_unique_key"),
        ]
        indexes = [GinIndex(fields=["words"], name="docentity_words")]

    def __str__(self) -> str:
        return f"{self.name} ({self.entity_type})"


class DocRelation(models.Model):
    """Relacja dwóch encji projektu stwierdzona w dokumentach (kierunek: źródło → cel)."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", verbose_name=_("project"))
    source = models.ForeignKey(DocEntity, on_delete=models.CASCADE, related_name="outgoing", verbose_name=_("source"))
    target = models.ForeignKey(DocEntity, on_delete=models.CASCADE, related_name="incoming", verbose_name=_("target"))
    relation = models.CharField(_("relation type"), max_length=32)

    class Meta:
        verbose_name = _("document relation")
        verbose_name_plural = _("document relations")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "relation"], name="docrelation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.relation} {self.target_id}"


class DocEvidence(models.Model):
    """Dowód we fragmencie: wzmianka encji albo stwierdzenie relacji, z dosłownym cytatem z tego fragmentu."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", verbose_name=_("project"))
    document = models.ForeignKey(
        "rag.Document", on_delete=models.CASCADE, related_name="graph_evidence", verbose_name=_("document")
    )
    chunk = models.ForeignKey("rag.Chunk", on_delete=models.CASCADE, related_name="graph_evidence")
    entity = models.ForeignKey(
        DocEntity, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence", verbose_name=_("entity")
    )
    relation = models.ForeignKey(
        DocRelation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evidence",
        verbose_name=_("relation"),
    )
    quote = models.CharField(_("quote"), max_length=300)

    class Meta:
        verbose_name = _("graph evidence")
        verbose_name_plural = _("graph evidence")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entity__isnull=False, relation__isnull=True)
                | models.Q(entity__isnull=True, relation__isnull=False),
                name="docevidence_entity_xor_relation",
            ),
            models.UniqueConstraint(fields=["chunk", "entity"], name="docevidence_unique_entity"),
            models.UniqueConstraint(fields=["chunk", "relation"], name="docevidence_unique_relation"),
        ]

    def __str__(self) -> str:
        return self.quote[:60]


class ChunkExtraction(models.Model):
    """Wynik ekstrakcji grafu z fragmentu: zrobiona albo pominięta z powodem (odpowiedź nie pasowała do schematu)."""

    class Status(models.TextChoices):
        DONE = "done", _("done")
        SKIPPED = "skipped", _("skipped")

    chunk = models.OneToOneField(
        "rag.Chunk", on_delete=models.CASCADE, primary_key=True, related_name="graph_extraction"
    )
    document = models.ForeignKey(
        "rag.Document", on_delete=models.CASCADE, related_name="graph_extractions", verbose_name=_("document")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("chunk graph extraction")
        verbose_name_plural = _("chunk graph extractions")

    def __str__(self) -> str:
        return f"{self.chunk_id}: {self.status}"
