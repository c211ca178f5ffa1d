"""Ranking models with a judge (`judgeaudit arena`) and auditing judgment logs (`judgeaudit logs`).

layouts: questions and answers in Arena-Hard, MT-Bench and AlpacaEval layouts;
games: judgments as games between two answers, and arena runs' records as games;
fitting: win rates, Bradley-Terry and style-controlled Bradley-Terry with bootstrap intervals;
ratings: the style regression for single-answer ratings;
logs: the four judgment-log formats; results: results.json, judge_scores.csv, report;
run: the arena and logs runs end to end.
"""
