"""The data rules of hosted fine-tuning services, one profile per target, each rule with its source.

A profile is data, not code: `checks/target.py` applies every rule a profile sets. Limits change:
each profile names the date its rules were written down and the page that documents each one;
update both together. The 2026-12-03 values come from the services' documentation as surveyed
when the profiles were filed, not re-read from the live pages on that day (the machine they were
written on had no internet): compare them with the pages before relying on a limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    checked: str  # the date the rules were written down from the sources below
    sources: dict[str, str]  # rule -> where it is documented
    record_key: str = "messages"  # the key every record holds ("contents": Gemini's format)
    min_examples: int = 0
    max_examples: int = 0  # 0: no limit
    max_tokens: int = 0  # per example
    max_file_bytes: int = 0
    max_eval_examples: int = 0
    roles: tuple[str, ...] = ()
    system_first: bool = False
    weights: tuple[int, ...] = ()  # the values an assistant turn's `weight` may take (empty: no rule)
    tool_call_id: str = ""  # a regular expression every tool-call id must match
    arguments_string: bool = False  # tool-call arguments are a JSON string
    calls_answered: bool = False  # every tool call is answered by one tool message, and no more
    last_assistant: bool = False  # the conversation ends with an assistant turn
    notes: tuple[str, ...] = field(default=())


MB = 1_000_000
GB = 1_000_000_000
OPENAI_DOCS = "https://platform.openai.com/docs/guides/supervised-fine-tuning"

PROFILES = {
    "openai": Profile(
        "openai", "OpenAI fine-tuning (chat models)", "2026-12-03",
        {"min_examples": OPENAI_DOCS + " (at least 10 examples)",
         "max_tokens": OPENAI_DOCS + " (65,536 tokens per training example for gpt-4o-mini)",
         "max_file_bytes": "https://platform.openai.com/docs/api-reference/files/create (512 MB for fine-tuning files)",
         "roles": OPENAI_DOCS + " (chat format: system, developer, user, assistant, tool)",
         "weights": OPENAI_DOCS + " (assistant message `weight`: 0 or 1)"},
        min_examples=10, max_tokens=65_536, max_file_bytes=512 * MB,
        roles=("system", "developer", "user", "assistant", "tool", "function"), weights=(0, 1)),
    "vertex": Profile(
        "vertex", "Vertex AI supervised tuning (Gemini)", "2026-12-03",
        {"record_key": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare "
                       "(records hold `contents`, optional `systemInstruction`)",
         "max_tokens": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning "
                       "(131,072 tokens per example)",
         "max_eval_examples": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning "
                              "(at most 5,000 validation examples)",
         "max_file_bytes": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning "
                           "(dataset files up to 1 GB)",
         "roles": "https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare "
                  "(content roles: user, model)"},
        record_key="contents", max_tokens=131_072, max_eval_examples=5_000, max_file_bytes=1 * GB,
        roles=("user", "model")),
    "fireworks": Profile(
        "fireworks", "Fireworks AI supervised fine-tuning", "2026-12-03",
        {"min_examples": "https://docs.fireworks.ai/fine-tuning/fine-tuning-models (3 to 3,000,000 examples)",
         "max_examples": "https://docs.fireworks.ai/fine-tuning/fine-tuning-models (3 to 3,000,000 examples)",
         "system_first": "https://docs.fireworks.ai/fine-tuning/fine-tuning-models (a system message comes first)",
         "weights": "https://docs.fireworks.ai/fine-tuning/fine-tuning-models (`weight`: 0 or 1)",
         "roles": "https://docs.fireworks.ai/fine-tuning/fine-tuning-models (system, user, assistant, tool)"},
        min_examples=3, max_examples=3_000_000, system_first=True, weights=(0, 1),
        roles=("system", "user", "assistant", "tool")),
    "together": Profile(
        "together", "Together AI fine-tuning", "2026-12-03",
        {"roles": "https://docs.together.ai/docs/fine-tuning-data-preparation (roles: system, user, assistant, tool)",
         "weights": "https://docs.together.ai/docs/fine-tuning-data-preparation (`weight`: 0 or 1)",
         "max_file_bytes": "https://docs.together.ai/docs/fine-tuning-data-preparation (files up to 50.1 GB)"},
        roles=("system", "user", "assistant", "tool"), weights=(0, 1), max_file_bytes=50_100 * MB),
    "mistral": Profile(
        "mistral", "Mistral fine-tuning", "2026-12-03",
        {"tool_call_id": "https://docs.mistral.ai/capabilities/finetuning/ (tool call ids: 9 characters, a-z A-Z 0-9)",
         "arguments_string": "https://docs.mistral.ai/capabilities/finetuning/ (`arguments` as a JSON string)",
         "calls_answered": "https://docs.mistral.ai/capabilities/finetuning/ (each tool call answered by one "
                           "tool message)",
         "last_assistant": "https://docs.mistral.ai/capabilities/finetuning/ (the last message is the assistant's)",
         "roles": "https://docs.mistral.ai/capabilities/finetuning/ (system, user, assistant, tool)"},
        roles=("system", "user", "assistant", "tool"), tool_call_id=r"[A-Za-z0-9]{9}", arguments_string=True,
        calls_answered=True, last_assistant=True),
}


def rules_table() -> str:
    """Every profile's rules, with source and date, as Markdown (for the check's documentation)."""
    lines = ["| target | rule | value | source (read on) |", "|---|---|---|---|"]
    for profile in PROFILES.values():
        for rule, source in profile.sources.items():
            value = getattr(profile, rule)
            if isinstance(value, tuple):
                value = ", ".join(map(str, value))
            elif isinstance(value, int) and not isinstance(value, bool):
                value = f"{value:,}"
            lines.append(f"| {profile.name} | `{rule}` | {value} | {source} ({profile.checked}) |")
    return "\n".join(lines)
