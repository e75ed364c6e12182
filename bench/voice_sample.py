"""The voice scorecard on a data folder: ceiling, floors, word salad, lines shuffled across posts, rule
rewrites and the base model's own answers to held-out briefs
(``python bench/voice_sample.py DATA [MAX_PER_SIDE [BASE_ANSWERS]]``)."""

import json
import random
import sys
import time

from pipeline.data.folder import DataFolder
from pipeline.data.negatives import rule_rewrite
from pipeline.teacher import make_teacher
from pipeline.voice.reference import reference_texts
from pipeline.voice.scorecard import voice_scorecard
from pipeline.voice.surprisal import ReferenceModel
from pipeline.voice.synthetic import shuffled_lines, word_salad

data = DataFolder(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
posts = data.posts()
train = [p["text"] for p in posts if p["split"] == "train"]
held = [p for p in posts if p["split"] != "train"]
start = time.time()
answers = []
if len(sys.argv) > 3:  # how many held-out briefs the base model answers (slow on a busy CPU)
    base = make_teacher("local", local_model="default", batch_size=8)
    answers = base.chat([[{"role": "user", "content": p["brief"]}] for p in held[:int(sys.argv[3])]], max_new_tokens=80)
    print(f"{len(answers)} base answers in {time.time() - start:.0f} s", flush=True)
rng = random.Random(0)
columns = {"word salad": word_salad(train, [p["text"] for p in held], seed=0),
           "lines shuffled across posts": shuffled_lines(train, 30, seed=0),
           "rule rewrites": [rule_rewrite(t) for t in rng.sample(train, 30)],
           **({"base model answers": answers} if answers else {})}
card = voice_scorecard(train, [p["text"] for p in held], reference_texts(), columns,
                       generic=[rule_rewrite(t) for t in rng.sample(train, 30)], reference_model=ReferenceModel(),
                       max_per_side=n, progress=lambda m: print(m, f"{time.time() - start:.0f} s", flush=True))
print("\n".join(card.lines()))
print(json.dumps(card.as_dict()))
