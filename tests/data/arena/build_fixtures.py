"""Writes the arena/logs fixtures in this folder (run it again after changing it).

One made-up corpus: 24 questions, each with four key facts, and four fake models whose
answers state some of the facts (their substance), padded with filler sentences (length)
and sometimes formatted as markdown (style), drawn independently, with a fixed seed:
- base-model: the baseline, medium everything;
- verbose-model: usually longer than the baseline, middling facts;
- sharp-model: short, most facts;
- fluffy-model: few facts, heavy markdown.
The same corpus is written in each layout, with judgment logs made by known rules.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
THINGS = ["harbor", "lantern", "glacier", "orchard", "compass", "violin", "meadow", "furnace", "beacon", "quarry",
          "ferry", "canyon", "archive", "kettle", "falcon", "granary", "mosaic", "tunnel", "pigment", "anchor",
          "cellar", "garden", "signal", "bridge"]
TRAITS = ["sturdy", "ancient", "painted blue", "owned by the town", "rebuilt in spring", "lit at night",
          "open on Sundays", "made of cedar", "listed as a landmark", "twice as wide as its neighbour",
          "guarded by a dog", "older than the church"]
FILLER = ["This is worth keeping in mind.", "Many visitors find this detail interesting.",
          "The wider context matters here.", "There is more one could say.",
          "The situation is quite nuanced.", "Local guides often mention this.",
          "It is a good question.", "Such details are easy to overlook.",
          "Records from that time are patchy.", "People in town still talk about it.",
          "Opinions on this differ somewhat.", "The story has been retold often.",
          "Few sources agree on everything.", "It has changed over the years."]
MODELS = {  # sentences in the answer, key facts among them, markdown probability
    "base-model": ((4, 8), (1, 4), 0.4),
    "verbose-model": ((6, 12), (1, 3), 0.4),
    "sharp-model": ((2, 6), (2, 4), 0.3),
    "fluffy-model": ((3, 9), (0, 2), 0.8),
}
# Markdown forms, drawn independently of length and substance.
FORMS = ("header+list", "list", "bold", "header")


def build_corpus(seed: int = 7):
    rng = random.Random(seed)
    questions, facts, answers = [], {}, {m: {} for m in MODELS}
    for i, thing in enumerate(THINGS):
        qid = f"q{i:02d}"
        prompt = f"What are the four notable facts about the old {thing} in Millbrook?"
        chosen = rng.sample(TRAITS, 4)
        questions.append({"qid": qid, "prompt": prompt, "category": "made-up facts",
                          "followup": f"Which of those facts about the {thing} matters most?"})
        facts[prompt] = [f"the {thing} is {t}" for t in chosen]
        for model, ((t_lo, t_hi), (k_lo, k_hi), md) in MODELS.items():
            # Length (sentences) and substance (facts among them) are drawn independently.
            total = rng.randint(t_lo, t_hi)
            k = min(rng.randint(k_lo, k_hi), total)
            sentences = [f"The {thing} is {t}." for t in chosen[:k]] + rng.sample(FILLER, total - k)
            rng.shuffle(sentences)
            form = rng.choice(FORMS) if rng.random() < md else "plain"
            if form == "plain":
                text = " ".join(sentences)
            elif form == "bold":
                text = " ".join(f"**{s}**" if j == 0 else s for j, s in enumerate(sentences))
            elif form == "header":
                text = f"## The {thing}\n\n" + " ".join(sentences)
            else:
                lines = [f"- {s}" for s in sentences]
                text = (f"## The {thing}\n\n" if form == "header+list" else "") + "\n".join(lines)
            answers[model][qid] = [text, f"The first fact about the {thing} matters most."]
    return questions, facts, answers


def write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def longer_label(a: str, b: str) -> str:
    la, lb = len(a.split()), len(b.split())
    if la == lb:
        return "A=B"
    strong = max(la, lb) >= 1.5 * min(la, lb)
    return ("A>>B" if strong else "A>B") if la > lb else ("B>>A" if strong else "B>A")


def main() -> None:
    questions, facts, answers = build_corpus()
    (HERE / "facts.json").write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")

    # Arena-Hard, current layout: uid + prompt, messages.
    write_jsonl(HERE / "arena_hard" / "question.jsonl",
                [{"uid": q["qid"], "category": q["category"], "subcategory": "fixture", "prompt": q["prompt"]}
                 for q in questions])
    for m, per in answers.items():
        write_jsonl(HERE / "arena_hard" / "model_answer" / f"{m}.jsonl",
                    [{"uid": q, "ans_id": f"{m}-{q}", "model": m,
                      "messages": [{"role": "user", "content": next(x["prompt"] for x in questions if x["qid"] == q)},
                                   {"role": "assistant", "content": {"answer": t[0]}}], "tstamp": 0}
                     for q, t in per.items()])

    # Arena-Hard v0.1 layout: question_id + turns[{content}], choices[0].turns[{content}].
    write_jsonl(HERE / "arena_hard_v01" / "question.jsonl",
                [{"question_id": q["qid"], "category": "arena-hard-v0.1", "cluster": q["category"],
                  "turns": [{"content": q["prompt"]}]} for q in questions])
    for m, per in answers.items():
        write_jsonl(HERE / "arena_hard_v01" / "model_answer" / f"{m}.jsonl",
                    [{"question_id": q, "answer_id": f"{m}-{q}", "model_id": m,
                      "choices": [{"index": 0, "turns": [{"content": t[0], "token_len": len(t[0].split())}]}],
                      "tstamp": 0} for q, t in per.items()])
    # Its judgments, by the prefers-longer rule; game 1 shows the baseline as A. One
    # unparsed game (score null) and one question left unjudged.
    judge_dir = HERE / "arena_hard_v01" / "model_judgment" / "longer-rule"
    for m, per in answers.items():
        if m == "base-model":
            continue
        rows = []
        for q, t in per.items():
            if m == "fluffy-model" and q == "q23":
                continue  # missing
            base = answers["base-model"][q][0]
            g1, g2 = longer_label(base, t[0]), longer_label(t[0], base)
            if m == "sharp-model" and q == "q05":
                g2 = None
            rows.append({"question_id": q, "model": m, "judge": "longer-rule",
                         "games": [{"user_prompt": "...", "judgment": f"My final verdict is [[{g1}]]", "score": g1},
                                   {"user_prompt": "...", "judgment": "no verdict" if g2 is None
                                    else f"My final verdict is [[{g2}]]", "score": g2}]})
        write_jsonl(judge_dir / f"{m}.jsonl", rows)

    # MT-Bench: question_id (int) + two turns of strings, choices[0].turns strings.
    write_jsonl(HERE / "mt_bench" / "question.jsonl",
                [{"question_id": 81 + i, "category": "writing", "turns": [q["prompt"], q["followup"]]}
                 for i, q in enumerate(questions)])
    for m, per in answers.items():
        write_jsonl(HERE / "mt_bench" / "model_answer" / f"{m}.jsonl",
                    [{"question_id": 81 + i, "answer_id": f"{m}-{i}", "model_id": m,
                      "choices": [{"index": 0, "turns": per[q["qid"]]}], "tstamp": 0}
                     for i, q in enumerate(questions)])
    single, pair = [], []
    for i, q in enumerate(questions):
        qid = 81 + i
        for m, per in answers.items():
            for turn in (1, 2):
                text = per[q["qid"]][turn - 1]
                # Ratings by substance: 2 points per key fact stated, never by length.
                n_facts = sum(f.split(" is ", 1)[1] in text for f in facts[q["prompt"]]) if turn == 1 else 2
                score = 2 + 2 * n_facts if not (m == "fluffy-model" and qid == 90 and turn == 1) else -1
                single.append({"question_id": qid, "model": m, "judge": ["gpt-4", "single-v1"],
                               "user_prompt": "...", "judgment": f"Rating: [[{score}]]", "score": score,
                               "turn": turn, "tstamp": 0})
        for m in answers:
            if m == "base-model":
                continue
            a, b = answers[m][q["qid"]][0], answers["base-model"][q["qid"]][0]
            w1 = {"A>>B": "model_1", "A>B": "model_1", "A=B": "tie"}.get(longer_label(a, b), "model_2")
            w2 = {"A>>B": "model_2", "A>B": "model_2", "A=B": "tie"}.get(longer_label(b, a), "model_1")
            pair.append({"question_id": qid, "model_1": m, "model_2": "base-model", "g1_winner": w1,
                         "g2_winner": "error" if (m == "verbose-model" and qid == 84) else w2,
                         "judge": ["gpt-4", "pair-v2"], "g1_user_prompt": "...", "g1_judgment": "...",
                         "g2_user_prompt": "...", "g2_judgment": "...", "turn": 1, "tstamp": 0})
    write_jsonl(HERE / "mt_bench" / "model_judgment" / "gpt-4_single.jsonl", single)
    write_jsonl(HERE / "mt_bench" / "model_judgment" / "gpt-4_pair.jsonl", pair)

    # AlpacaEval: one JSON list per model, and annotations with preference 1 / 2 / 1.5 / fractional.
    out_dir = HERE / "alpaca_eval" / "outputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    for m, per in answers.items():
        rows = [{"instruction": q["prompt"], "output": per[q["qid"]][0], "generator": m, "dataset": "fixture"}
                for q in questions]
        (out_dir / f"{m}.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    ann = []
    for q in questions:
        for m in answers:
            if m == "base-model":
                continue
            a, b = answers["base-model"][q["qid"]][0], answers[m][q["qid"]][0]
            label = longer_label(b, a)  # output_2 (the model) against output_1 (the reference)
            pref = {"A>>B": 2.0, "A>B": 1.8, "A=B": 1.5, "B>A": 1.2, "B>>A": 1.0}[label]
            ann.append({"instruction": q["prompt"], "output_1": a, "generator_1": "base-model", "output_2": b,
                        "generator_2": m, "annotator": "longer-rule", "preference": pref})
    ann[3]["preference"] = None  # an annotation the annotator could not parse
    (HERE / "alpaca_eval" / "annotations.json").write_text(json.dumps(ann, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
