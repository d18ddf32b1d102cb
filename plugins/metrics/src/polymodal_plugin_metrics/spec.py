"""The evaluator declarations of this pack, named by the ``polymodal.evaluators`` entry points.

Import-light by contract: this module imports only :mod:`polymodal.components`. Each spec's ``target`` is
the ``"module:function"`` imported when a task first evaluates with it; the functions import numpy,
scikit-learn, SciPy, rouge-score, sacreBLEU or jiwer inside their bodies.

``primary`` is the key of the returned dict that summarises the metric; ``higher_is_better`` is its
direction (only ``wer`` and ``cer`` are lower-is-better).
"""
from __future__ import annotations

from polymodal.components import EvaluatorSpec

__all__ = [
    "ACCURACY", "EXACT_MATCH", "TOKEN_ACCURACY", "VQA_ACCURACY", "MCC", "F1", "PEARSON_SPEARMAN", "ROUGE",
    "BLEU", "CIDER", "IOU_ACCURACY", "DETECTION_MAP", "WER", "CER", "EVALUATORS",
]

_PKG = "polymodal_plugin_metrics"

ACCURACY = EvaluatorSpec(
    name="accuracy", target=f"{_PKG}.matching:accuracy", primary="accuracy",
    doc="percent of predictions equal to a reference (lower-cased, whitespace-collapsed); any of several")
EXACT_MATCH = EvaluatorSpec(
    name="exact_match", target=f"{_PKG}.matching:exact_match", primary="exact_match",
    doc="percent equal to a reference after lower-casing and deleting punctuation (SQuAD style)")
TOKEN_ACCURACY = EvaluatorSpec(
    name="token_accuracy", target=f"{_PKG}.matching:token_accuracy", primary="token_accuracy",
    doc="percent of reference whitespace tokens predicted at the same position (text infilling)")
VQA_ACCURACY = EvaluatorSpec(
    name="vqa_accuracy", target=f"{_PKG}.matching:vqa_accuracy", primary="vqa_accuracy",
    doc="VQA soft accuracy min(1, humans agreeing / 3), official leave-one-out average; plain if one answer")
MCC = EvaluatorSpec(
    name="mcc", target=f"{_PKG}.classification:mcc", primary="mcc",
    doc="Matthews correlation x100 between predicted and reference labels (scikit-learn)")
F1 = EvaluatorSpec(
    name="f1", target=f"{_PKG}.classification:f1", primary="f1",
    doc="F1 x100 over labels: macro by default, or binary with positive=<label> (scikit-learn)")
PEARSON_SPEARMAN = EvaluatorSpec(
    name="pearson_spearman", target=f"{_PKG}.regression:pearson_spearman", primary="corr",
    doc="Pearson and Spearman x100 of numeric predictions; unparsable ones imputed with the parsed mean")
ROUGE = EvaluatorSpec(
    name="rouge", target=f"{_PKG}.overlap:rouge", primary="rougeL",
    doc="ROUGE-1/2/L F-measure x100 with stemming (rouge-score), mean over rows, best reference")
BLEU = EvaluatorSpec(
    name="bleu", target=f"{_PKG}.overlap:bleu", primary="bleu",
    doc="corpus BLEU-4 (sacreBLEU, 13a tokens, exp smoothing), any number of references per row")
CIDER = EvaluatorSpec(
    name="cider", target=f"{_PKG}.cider:cider", primary="cider",
    doc="CIDEr-D x100 as papers report it (COCO: 1.464 -> 146.4), IDF from the evaluated references")
IOU_ACCURACY = EvaluatorSpec(
    name="iou_accuracy", target=f"{_PKG}.boxes:iou_accuracy", primary="acc_iou",
    doc="percent of predicted boxes with IoU >= 0.5 (threshold=) with a reference box, and mean IoU")
DETECTION_MAP = EvaluatorSpec(
    name="detection_map", target=f"{_PKG}.detection:detection_map", primary="map50",
    doc="COCO-style mAP@0.5 (all-point AP, mean over reference classes) and F1 of detections")
WER = EvaluatorSpec(
    name="wer", target=f"{_PKG}.error_rates:wer", primary="wer", higher_is_better=False,
    doc="corpus word error rate x100: total word edits / reference words (jiwer)")
CER = EvaluatorSpec(
    name="cer", target=f"{_PKG}.error_rates:cer", primary="cer", higher_is_better=False,
    doc="corpus character error rate x100, spaces ignored (jiwer)")

#: Every spec of this pack, in entry-point order.
EVALUATORS: tuple[EvaluatorSpec, ...] = (
    ACCURACY, EXACT_MATCH, TOKEN_ACCURACY, VQA_ACCURACY, MCC, F1, PEARSON_SPEARMAN, ROUGE, BLEU, CIDER,
    IOU_ACCURACY, DETECTION_MAP, WER, CER,
)
