"""Benchmark the `language` check: multilingual chat rows of realistic length (300-800 characters).

    python benchmarks/bench_language.py --rows 20000

    python benchmarks/bench_language.py --rows 1000 --in-process

Rows are generated with a seeded RNG from word lists of several languages (90% English); every
prompt and response is distinct, so deduplication does not help. Prints load and check times.
`--in-process` times the detection alone in this process: loading the fastText model and
`judge_many` over the distinct prompts and responses. For precision on real data see
`bench_language_real.py`.

Measured on the 2-core machine (see the README's table for the current figures).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

WORDS = {
    "en": "the order arrived late and the package was damaged when I opened it please send a replacement "
          "or refund my card I have been waiting for two weeks and nobody answers my emails can you check "
          "the status of my account because the app keeps crashing every time I try to log in".split(),
    "de": "die Bestellung kam zu spät und das Paket war beschädigt als ich es geöffnet habe bitte schicken "
          "Sie einen Ersatz oder erstatten Sie den Betrag ich warte seit zwei Wochen und niemand antwortet "
          "auf meine E-Mails können Sie den Status meines Kontos prüfen weil die App immer abstürzt".split(),
    "fr": "la commande est arrivée en retard et le colis était endommagé quand je l'ai ouvert merci "
          "d'envoyer un remplacement ou de rembourser ma carte j'attends depuis deux semaines et personne "
          "ne répond à mes messages pouvez-vous vérifier le statut de mon compte".split(),
    "es": "el pedido llegó tarde y el paquete estaba dañado cuando lo abrí por favor envíen un reemplazo o "
          "devuelvan el dinero a mi tarjeta llevo dos semanas esperando y nadie responde a mis correos "
          "pueden revisar el estado de mi cuenta porque la aplicación se cierra siempre".split(),
    "ru": "заказ пришёл поздно и посылка была повреждена когда я её открыл пожалуйста отправьте замену "
          "или верните деньги на карту я жду уже две недели и никто не отвечает на мои письма".split(),
    "ja": "注文した 商品が 遅れて 届きました 箱が 壊れて いました 交換 または 返金を お願いします "
          "二週間 待って いますが 誰も メールに 返信して くれません".split(),
}


def sentence(rng: random.Random, lang: str, chars: int) -> str:
    words, out, size = WORDS[lang], [], 0
    while size < chars:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out).capitalize() + "."


def make_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    langs = ["en"] * 18 + ["de", "fr", "es", "ru", "ja"] * 1
    rows = []
    for i in range(n):
        lang = rng.choice(langs)
        answer_lang = lang if rng.random() > 0.05 else "en"
        rows.append({"messages": [
            {"role": "system", "content": "You are a helpful support assistant."},
            {"role": "user", "content": f"#{i} " + sentence(rng, lang, rng.randint(300, 800))},
            {"role": "assistant", "content": f"#{i} " + sentence(rng, answer_lang, rng.randint(300, 800))},
        ]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--in-process", action="store_true", help="time the detection alone, in this process")
    args = parser.parse_args()
    if args.in_process:
        rows = make_rows(args.rows, args.seed)
        texts = sorted({row["messages"][k]["content"] for row in rows for k in (1, 2)})
        start = time.perf_counter()
        from dataset_auditor_checks import _langid

        _langid._fasttext()
        loaded = time.perf_counter()
        _langid.judge_many(texts, 500)
        done = time.perf_counter()
        print(f"texts: {len(texts):,}  model: {loaded - start:.3f} s  detection: {done - loaded:.3f} s "
              f"({(done - loaded) / len(texts) * 1000:.3f} ms a text)")
        return

    from auditor.testing import make_context
    from dataset_auditor_checks.language import Language

    rows = make_rows(args.rows, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        ctx = make_context(rows, directory=Path(folder))
        ctx.rows("train")
        loaded = time.perf_counter()
        result = Language(Language.make_options({"languages": ["en"]})).run(ctx)
        done = time.perf_counter()
    print(f"rows: {args.rows:,}  load: {loaded - start:.2f} s  language check: {done - loaded:.2f} s")
    print(f"findings: {len(result.findings):,}  summary: {result.summary}")


if __name__ == "__main__":
    main()
