import time
from bench.common import django_world, flush_redis
with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS="200"):
    from personas import generation
    from sight import jobs, llm
    from sight.demo import seed_demo
    flush_redis()
    user, project = seed_demo()
    spans = []
    orig = llm.OfflineChatModel._agenerate
    async def timed(self, *a, **k):
        s = time.perf_counter(); r = await orig(self, *a, **k); spans.append((s, time.perf_counter())); return r
    llm.OfflineChatModel._agenerate = timed
    t = {}
    def wrap(name, f):
        def w(*a, **k):
            s = time.perf_counter(); r = f(*a, **k); t[name] = (round(s - s0, 3), round(time.perf_counter() - s0, 3)); return r
        return w
    generation.finish_run = wrap("finish", generation.finish_run)
    generation.build_segments = wrap("segments", generation.build_segments)
    generation.validate_run = wrap("validate", generation.validate_run)
    run = generation.start_generation(project, user=user, num_personas=50, seed=int(time.time()), segments=True, use_rag=False)
    s0 = time.perf_counter(); jobs.execute(str(run.job_id)); total = time.perf_counter() - s0
    spans.sort()
    print("total", round(total,3), t)
    print("starts", [round(a - s0, 2) for a, _ in spans])
    print("ends", [round(b - s0, 2) for _, b in spans])
