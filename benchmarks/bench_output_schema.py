"""Speed of the output-schema check: 100,000 targets against a schema of about 20 properties.

Generates its own chat data (seeded), with about 2% invalid targets (schema violations, text, fences),
loads it as an audit would (timed separately) and times the check's run() on the loaded context.

    python benchmarks/bench_output_schema.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from auditor import AuditContext, Settings
from auditor.input.dataset import load_dataset
from dataset_auditor_checks.output_schema import OutputSchema

ENUM = ["low", "medium", "high", "urgent"]


def make_schema(properties: int) -> dict:
    props = {}
    for i in range(properties):
        kind = i % 5
        if kind == 0:
            props[f"s{i}"] = {"type": "string", "minLength": 1, "maxLength": 200}
        elif kind == 1:
            props[f"e{i}"] = {"type": "string", "enum": ENUM}
        elif kind == 2:
            props[f"n{i}"] = {"type": "integer", "minimum": 0, "maximum": 1000}
        elif kind == 3:
            props[f"b{i}"] = {"type": "boolean"}
        else:
            props[f"a{i}"] = {"type": "array", "items": {"type": "string"}, "maxItems": 5}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": props,
            "required": sorted(props), "additionalProperties": False}


def make_target(schema: dict, rng: random.Random) -> dict:
    out = {}
    for name, prop in schema["properties"].items():
        if "enum" in prop:
            out[name] = rng.choice(ENUM)
        elif prop["type"] == "string":
            out[name] = f"value {rng.randrange(10**6)} of {name}"
        elif prop["type"] == "integer":
            out[name] = rng.randrange(1000)
        elif prop["type"] == "boolean":
            out[name] = rng.random() < 0.5
        else:
            out[name] = [f"tag{rng.randrange(50)}" for _ in range(rng.randrange(1, 5))]
    return out


def break_target(target: dict, rng: random.Random) -> str:
    kind = rng.randrange(5)
    bad = dict(target)
    if kind == 0:
        bad.pop(next(iter(bad)))
    elif kind == 1:
        bad["extra"] = 1
    elif kind == 2:
        bad[next(k for k in bad if k.startswith("e"))] = "critical"
    elif kind == 3:
        return "Sure! Here is the answer: " + json.dumps(target)
    else:
        return "```json\n" + json.dumps(target) + "\n```"
    return json.dumps(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--properties", type=int, default=20)
    parser.add_argument("--invalid", type=float, default=0.02, help="share of invalid targets")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    schema = make_schema(args.properties)
    planted = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for i in range(args.rows):
                target = make_target(schema, rng)
                if rng.random() < args.invalid:
                    text = break_target(target, rng)
                    planted += 1
                else:
                    text = json.dumps(target)
                record = {"messages": [{"role": "user", "content": f"ticket {i}"},
                                       {"role": "assistant", "content": text}]}
                handle.write(json.dumps(record) + "\n")
        start = time.perf_counter()
        data = load_dataset(str(path), "train")
        load_seconds = time.perf_counter() - start
        ctx = AuditContext([data], Settings(), schema)
        check = OutputSchema(OutputSchema.make_options({}))
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = check.run(ctx)
            timings.append(time.perf_counter() - start)
    found = result.metrics["invalid_targets"]
    print(f"rows={args.rows:,} properties={args.properties} planted_invalid={planted:,} found_invalid={found:,} "
          f"validator={result.metrics['validator']}")
    print(f"load+normalize (engine, not the check): {load_seconds:.2f} s")
    print(f"output-schema run(): best {min(timings):.3f} s, median {sorted(timings)[len(timings) // 2]:.3f} s "
          f"over {args.repeat} runs ({args.rows / min(timings):,.0f} targets/s)")
    if found != planted:
        raise SystemExit(f"found {found} invalid targets, planted {planted}")


if __name__ == "__main__":
    main()
