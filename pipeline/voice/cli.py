"""``python -m pipeline voice score``: score any texts against the voice of a data folder."""

from __future__ import annotations

from pathlib import Path

from ..cli import add_command


def register(subparsers) -> None:
    from .score import VoiceScoreSettings

    d = VoiceScoreSettings()
    voice = subparsers.add_parser("voice", help="the voice scorecard: does a text sound like the author?")
    commands = voice.add_subparsers(dest="voice_command", metavar="VOICE_COMMAND", required=True)
    p = add_command(commands, "score", run_score, "score texts against the voice of a data folder",
                    description="Tell the texts in FILE from the author's held-out posts with a cross-fitted detector "
                                "(n-grams, function words, layout, the reference model's surprisal) and place that "
                                "between the floor (other people, generic prose) and the ceiling (the author's own "
                                "posts). Also a per-text probability that the author wrote it.")
    p.add_argument("--data", type=Path, required=True, help="a data folder (posts.jsonl with its splits)")
    p.add_argument("--input", type=Path, required=True,
                   help="the texts: any file the importer reads (CSV/JSONL with a text column, an X archive, ...)")
    p.add_argument("--reference", dest="reference_voices", type=Path, action="append", default=[],
                   help="other people's posts (a file; repeatable): join the floor and the scorer's negatives")
    p.add_argument("--model", default=d.model, help=f"reference model for surprisal [{d.model}]")
    p.add_argument("--folds", type=int, default=d.folds, help=f"detector cross-fitting folds [{d.folds}]")
    p.add_argument("--max-per-side", type=int, default=d.max_per_side,
                   help=f"at most this many texts a side per comparison [{d.max_per_side}]")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help=f"bootstrap draws per interval [{d.bootstrap}]")
    p.add_argument("--seed", type=int, default=d.seed, help=f"[{d.seed}]")


def run_score(args, log) -> dict:
    from ..data.ingest import ingest
    from .score import VoiceScoreSettings, score_texts

    settings = VoiceScoreSettings(reference_voices=args.reference_voices, model=args.model, folds=args.folds,
                                  max_per_side=args.max_per_side, bootstrap=args.bootstrap, seed=args.seed)
    settings.check()
    texts = [post.text for post in ingest(args.input).posts]
    log(f"scoring {len(texts)} texts from {args.input} against the voice of {args.data}")
    result = score_texts(args.data, texts, args.input.name, settings, log=log)
    if not args.json:
        for row in result.texts:
            flag = "  GARBLED" if row["garbled"] else ""
            log(f"{row['p_author']:.2f} author's  {row['fluency_ratio']:.2f}x surprisal{flag}  "
                f"{' '.join(row['text'].split())[:70]}")
        for line in result.scorecard.lines():
            log(line)
    summary = result.as_dict()
    return summary if args.json else {"verdict": summary["verdict"], "auc": summary["auc"], "score": summary["score"],
                                      "fluency_ratio": summary["fluency_ratio"]}
