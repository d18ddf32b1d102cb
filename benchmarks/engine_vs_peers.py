"""Benchmark polymodal's backbone against Hugging Face BART of the same size, on the CPU.

Run by hand (not part of the test suite)::

    .venv/bin/python benchmarks/engine_vs_peers.py                # full run: tiny and medium, every phase, ~5 minutes
    .venv/bin/python benchmarks/engine_vs_peers.py --quick        # ~1 minute smoke run (tiny, fewer repeats)
    .venv/bin/python benchmarks/engine_vs_peers.py --threads 1 --sizes tiny --phases train

Both models are randomly initialised from configs of the same shape (no download): polymodal's
``EncoderDecoder`` + ``TiedHead`` and transformers' ``BartForConditionalGeneration`` built from a
``BartConfig``. Vocabulary: 50,265 text + 8,192 image codes + 1,000 location bins (59,457 for BART; polymodal
adds 5 specials in front, 59,462). polymodal's head scores only the specials and text columns (a text
target never needs logits for codes or bins); BART scores its full vocabulary, as it does.

Measured, engine and peer interleaved repeat by repeat, with ``torch.set_num_threads(--threads)``:

* train: one forward + backward + fused AdamW step on a mixed two-task batch of 16 rows (8 free-text rows
  with sources of 48-64 tokens and targets of 20-32 tokens; 8 closed-set rows with sources of 24-64 and
  targets of 3-8 tokens whose loss is constrained to 64 label columns in polymodal), label smoothing 0.1,
  each task's loss averaged over its own tokens. Figures are real (non-pad) target tokens per second, in
  fp32 and under bf16 autocast.
* greedy / beam-5 generation of exactly 32 tokens (min_len = max_len = 32) at batch 1 and 16, encoder
  included, fp32 (and bf16 with ``--gen-dtypes fp32,bf16``: polymodal under autocast, whose decoding loop
  prepares bf16 copies of the weights once; BART from a bf16 copy of its weights, its fastest bf16 setting).
* peak memory: RSS high-water mark of a fresh subprocess per (model, phase) during the phase (reset after
  imports and model construction), and its growth over the RSS at that point.

Ratios are engine speed / peer speed (so > 1 means polymodal is faster) and engine memory / peer memory.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TEXT = 50_265
CODES = 8_192
BINS = 1_000
SPECIALS = 5  # polymodal: pad, bos, eos, unk, mask in front of the text space
PAD, BOS, EOS = 0, 1, 2  # polymodal global ids
HF_BOS, HF_PAD, HF_EOS = 0, 1, 2  # BART ids
BATCH, SRC_LEN, TGT_LEN, GEN_LEN = 16, 64, 32, 32
N_LABELS = 64


# ---------------------------------------------------------------------------------------------- data
@dataclass
class Batch:
    """One mixed two-task batch in both id spaces."""

    src_text: torch.Tensor      # [B, S] text ids (BART space), HF_PAD-padded
    src_pad: torch.Tensor       # [B, S] True at padding
    tgt_text: torch.Tensor      # [B, T] text ids of targets (EOS included), -100 at padding
    task_rows: list[torch.Tensor]
    label_cols: torch.Tensor    # polymodal columns allowed in the closed-set task

    @property
    def real_target_tokens(self) -> int:
        return int((self.tgt_text >= 0).sum())


def make_batch(seed: int = 0) -> Batch:
    """Rows 0-7: free text (long targets). Rows 8-15: closed set (short targets from 64 labels)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.full((BATCH, SRC_LEN), HF_PAD, dtype=torch.long)
    tgt = torch.full((BATCH, TGT_LEN), -100, dtype=torch.long)
    labels = torch.randint(4, TEXT - 1, (N_LABELS,), generator=g)
    for r in range(BATCH):
        free = r < BATCH // 2
        s_len = int(torch.randint(48 if free else 24, SRC_LEN + 1, (1,), generator=g))
        t_len = int(torch.randint(20, 33, (1,), generator=g)) if free else int(torch.randint(3, 9, (1,), generator=g))
        src[r, :s_len] = torch.randint(4, TEXT - 1, (s_len,), generator=g)
        body = (torch.randint(4, TEXT - 1, (t_len - 1,), generator=g) if free
                else labels[torch.randint(0, N_LABELS, (t_len - 1,), generator=g)])
        tgt[r, : t_len - 1] = body
        tgt[r, t_len - 1] = HF_EOS
    rows = [torch.arange(0, BATCH // 2), torch.arange(BATCH // 2, BATCH)]
    label_cols = torch.cat([labels, torch.tensor([HF_EOS])]) + SPECIALS  # text id -> polymodal column
    return Batch(src, src == HF_PAD, tgt, rows, label_cols)


def shift_right(tgt_text: torch.Tensor, start: int, pad: int) -> torch.Tensor:
    prev = torch.full_like(tgt_text, pad)
    prev[:, 0] = start
    prev[:, 1:] = tgt_text[:, :-1].clamp(min=0)
    prev[:, 1:][tgt_text[:, :-1] < 0] = pad
    return prev


# ---------------------------------------------------------------------------------------------- engine
class Engine:
    """polymodal: EncoderDecoder + a stand-in text adapter (scaled embedding + learned positions)."""

    name = "polymodal"

    def __init__(self, size: str) -> None:
        from polymodal.model import EncoderDecoder, ModelConfig, TiedHead

        vocab = SPECIALS + TEXT + CODES + BINS
        # no grid coordinates: text only, with exactly the parameters of the HF model
        self.config = ModelConfig.named(size, vocab, dropout=0.1, pad_id=PAD, cells=0)
        self.model = EncoderDecoder(self.config)
        self.enc_pos = torch.nn.Embedding(1024, self.config.d_model)
        torch.nn.init.normal_(self.enc_pos.weight, std=self.config.d_model ** -0.5)
        self.head = TiedHead(self.model.embed_tokens, [(0, SPECIALS), (SPECIALS, SPECIALS + TEXT)])
        params = list(self.model.parameters()) + list(self.enc_pos.parameters())
        self.opt = torch.optim.AdamW(params, lr=1e-4, fused=True)

    def embed_source(self, src_ids: torch.Tensor) -> torch.Tensor:
        x = self.model.lookup(src_ids)
        return torch.add(self.enc_pos.weight[: src_ids.shape[1]], x, alpha=self.model.embed_scale)

    def prepare_train(self, batch: Batch) -> dict:
        src = torch.where(batch.src_pad, PAD, batch.src_text + SPECIALS)
        tgt_cols = torch.where(batch.tgt_text >= 0, batch.tgt_text + SPECIALS, -1)
        prev = shift_right(tgt_cols, BOS, PAD)
        # Loss positions, grouped by task, and each task's allowed columns.
        sel, targets, bounds = [], [], [0]
        for rows in batch.task_rows:
            mask = torch.zeros_like(batch.src_pad[:, :1].expand(-1, TGT_LEN))
            mask[rows] = tgt_cols[rows] >= 0
            idx = mask.view(-1).nonzero().squeeze(1)
            sel.append(idx)
            targets.append(tgt_cols.view(-1)[idx])
            bounds.append(bounds[-1] + idx.numel())
        n_closed = bounds[2] - bounds[1]
        allowed = torch.zeros(n_closed, self.head.n_columns, dtype=torch.bool)
        allowed[:, batch.label_cols] = True
        return dict(src=src, pad=batch.src_pad, prev=prev, sel=torch.cat(sel), target=torch.cat(targets),
                    bounds=bounds, allowed=[None, allowed], tgt_pad=tgt_cols < 0)

    def train_step(self, p: dict, dtype: torch.dtype | None) -> float:
        from polymodal.model import label_smoothed_loss

        self.model.train()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            enc = self.model.encode(self.embed_source(p["src"]), p["pad"])
            hidden = self.model.decode(p["prev"], enc, p["pad"], tgt_padding_mask=p["tgt_pad"])
            logits = self.head(hidden.reshape(-1, hidden.shape[-1])[p["sel"]])
        total = 0.0
        for i, allowed in enumerate(p["allowed"]):
            a, b = p["bounds"][i], p["bounds"][i + 1]
            loss, _, n = label_smoothed_loss(logits[a:b], p["target"][a:b], 0.1, allowed)
            total = total + loss / n
        total.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(total.detach())

    def generate(self, src_text: torch.Tensor, src_pad: torch.Tensor, beam: int,
                 dtype: torch.dtype | None) -> torch.Tensor:
        from polymodal.generation import Automaton, beam_search, greedy

        self.model.eval()
        src = torch.where(src_pad, PAD, src_text + SPECIALS)
        automaton = getattr(self, "_automaton", None)
        if automaton is None:
            automaton = self._automaton = Automaton.unconstrained(self.head.n_columns, EOS, PAD)
        starts = torch.zeros(src.shape[0], dtype=torch.long)
        with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.bfloat16,
                                                    enabled=dtype is not None):
            enc = self.model.encode(self.embed_source(src), src_pad)
            kw = dict(bos_id=BOS, max_len=GEN_LEN, min_len=GEN_LEN)
            if beam == 1:
                out = greedy(self.model, enc, src_pad, self.head, automaton, starts, **kw)
            else:
                out = beam_search(self.model, enc, src_pad, self.head, automaton, starts, beam_size=beam,
                                  **kw)
        return out.columns


# ---------------------------------------------------------------------------------------------- peer
class Peer:
    """transformers' BartForConditionalGeneration of the same shape."""

    name = "hf-bart"

    def __init__(self, size: str) -> None:
        from transformers import BartConfig, BartForConditionalGeneration

        from polymodal.model import SIZES

        s = SIZES[size]
        cfg = BartConfig(
            vocab_size=TEXT + CODES + BINS, d_model=s["d_model"], encoder_layers=s["encoder_layers"],
            decoder_layers=s["decoder_layers"], encoder_attention_heads=s["n_heads"],
            decoder_attention_heads=s["n_heads"], encoder_ffn_dim=s["ffn_dim"], decoder_ffn_dim=s["ffn_dim"],
            max_position_embeddings=1024, dropout=0.1, attention_dropout=0.0, activation_dropout=0.0,
            activation_function="gelu", pad_token_id=HF_PAD, bos_token_id=HF_BOS, eos_token_id=HF_EOS,
            decoder_start_token_id=HF_EOS, forced_eos_token_id=None, forced_bos_token_id=None)
        self.model = BartForConditionalGeneration(cfg)
        # HF Trainer's default optimizer for torch >= 2.8 is the fused AdamW: give the peer the same.
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4, fused=True)

    def prepare_train(self, batch: Batch) -> dict:
        prev = shift_right(batch.tgt_text, HF_EOS, HF_PAD)
        return dict(src=batch.src_text, attn=(~batch.src_pad).long(), prev=prev, labels=batch.tgt_text,
                    rows=batch.task_rows)

    def train_step(self, p: dict, dtype: torch.dtype | None) -> float:
        self.model.train()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            logits = self.model(input_ids=p["src"], attention_mask=p["attn"],
                                decoder_input_ids=p["prev"]).logits
        # One fused cross-entropy over the whole batch (no per-task copies of the logits), then each
        # task's mean over its own tokens.
        token_loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), p["labels"].view(-1),
                                     ignore_index=-100, label_smoothing=0.1, reduction="none")
        token_loss = token_loss.view(p["labels"].shape)
        total = 0.0
        for rows in p["rows"]:
            total = total + token_loss[rows].sum() / (p["labels"][rows] >= 0).sum()
        total.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(total.detach())

    def generate(self, src_text: torch.Tensor, src_pad: torch.Tensor, beam: int,
                 dtype: torch.dtype | None) -> torch.Tensor:
        # In bf16 the peer generates from a bf16 copy of its weights, as a user would load it
        # (torch_dtype=bfloat16): 1.3-3.2x faster than autocast on the fp32 model, which casts every weight
        # at every step.
        model = self.model if dtype is None else self._low_precision(dtype)
        model.eval()
        with torch.inference_mode():
            return model.generate(
                input_ids=src_text, attention_mask=(~src_pad).long(), num_beams=beam, do_sample=False,
                max_new_tokens=GEN_LEN, min_new_tokens=GEN_LEN, no_repeat_ngram_size=0, length_penalty=1.0,
                early_stopping=False, num_return_sequences=1)

    def _low_precision(self, dtype: torch.dtype):
        cached = getattr(self, "_copy", None)
        if cached is None or cached[0] != dtype:
            cached = self._copy = (dtype, copy.deepcopy(self.model).to(dtype))
        return cached[1]


# ---------------------------------------------------------------------------------------------- timing
def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleave(tasks: dict[str, Callable[[], object]], repeats: int, warmup: int) -> dict[str, list[float]]:
    for _ in range(warmup):
        for fn in tasks.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in tasks}
    for _ in range(repeats):
        for k, fn in tasks.items():
            times[k].append(timed(fn))
    return times


def fmt_stats(values: list[float], unit_scale: float = 1.0, fmt: str = "{:.3f}") -> str:
    med = statistics.median(values) * unit_scale
    return f"{fmt.format(med)} [{fmt.format(min(values) * unit_scale)}-{fmt.format(max(values) * unit_scale)}]"


ROWS: list[tuple[str, str, str, str, str]] = []


def report(what: str, unit: str, engine: list[float], peer: list[float], higher_is_better: bool,
           fmt: str = "{:.3f}") -> None:
    ratio = (statistics.median(engine) / statistics.median(peer) if higher_is_better
             else statistics.median(peer) / statistics.median(engine))
    row = (what, unit, fmt_stats(engine, fmt=fmt), fmt_stats(peer, fmt=fmt), f"{ratio:.2f}x")
    ROWS.append(row)
    print(f"{row[0]:<34} {row[1]:<9} polymodal {row[2]:<28} hf-bart {row[3]:<28} speed ratio {row[4]}",
          flush=True)


def bench_train(size: str, dtypes: list[str], repeats: int, warmup: int) -> None:
    torch.manual_seed(0)
    engine, peer = Engine(size), Peer(size)
    batch = make_batch(0)
    pe, pp = engine.prepare_train(batch), peer.prepare_train(batch)
    n_tok = batch.real_target_tokens
    print(f"[train {size}] real target tokens {n_tok} of {BATCH * TGT_LEN} "
          f"({n_tok / (BATCH * TGT_LEN):.0%}); source tokens {int((~batch.src_pad).sum())} of "
          f"{BATCH * SRC_LEN}", flush=True)
    for name in dtypes:
        dtype = None if name == "fp32" else torch.bfloat16
        t = interleave({"e": lambda: engine.train_step(pe, dtype), "p": lambda: peer.train_step(pp, dtype)},
                       repeats, warmup)
        tps = {k: [n_tok / x for x in v] for k, v in t.items()}
        report(f"train {size} {name} tok/s", "tok/s", tps["e"], tps["p"], True, "{:.0f}")
        report(f"train {size} {name} step", "s", t["e"], t["p"], False)


def bench_generate(size: str, dtypes: list[str], repeats: int, warmup: int, batches: list[int],
                   beams: list[int]) -> None:
    torch.manual_seed(0)
    engine, peer = Engine(size), Peer(size)
    batch = make_batch(1)
    for name in dtypes:
        dtype = None if name == "fp32" else torch.bfloat16
        for bsz in batches:
            src, pad = batch.src_text[:bsz], batch.src_pad[:bsz]
            for beam in beams:
                out_e = engine.generate(src, pad, beam, dtype)
                out_p = peer.generate(src, pad, beam, dtype)
                assert out_e.shape[-1] == GEN_LEN, out_e.shape
                assert out_p.shape[-1] == GEN_LEN + 1, out_p.shape  # + decoder start token
                t = interleave({"e": lambda: engine.generate(src, pad, beam, dtype),
                                "p": lambda: peer.generate(src, pad, beam, dtype)}, repeats, warmup)
                label = "greedy" if beam == 1 else f"beam{beam}"
                report(f"gen {size} {name} {label} b{bsz}", "s", t["e"], t["p"], False)


# ---------------------------------------------------------------------------------------------- memory
def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def current_rss_mb() -> float:
    """Resident set size now (Linux /proc), else the high-water mark."""
    now = _status_mb("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> None:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0); ru_maxrss cannot be reset and a child
    started by a big parent inherits the parent's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    """RSS high-water mark since the last reset."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_child(which: str, size: str, phase: str, threads: int) -> None:
    """Run one phase in this (fresh) process and print its peak RSS as JSON."""
    torch.set_num_threads(threads)
    cls = Engine if which == "engine" else Peer
    bundle = cls(size)
    batch = make_batch(0)
    prep = bundle.prepare_train(batch) if phase.startswith("train") else None
    base = current_rss_mb()
    reset_peak_rss()
    if phase == "train_fp32":
        for _ in range(2):
            bundle.train_step(prep, None)
    elif phase == "train_bf16":
        for _ in range(2):
            bundle.train_step(prep, torch.bfloat16)
    elif phase == "beam5_b16":
        bundle.generate(batch.src_text, batch.src_pad, 5, None)
    print(json.dumps({"peak_mb": peak_rss_mb(), "base_mb": base}))


def bench_memory(sizes: list[str], phases: list[str], threads: int) -> None:
    for size in sizes:
        for phase in phases:
            got = {}
            for which in ("engine", "peer"):
                out = subprocess.run([sys.executable, __file__, "--memory-child", which, size, phase,
                                      "--threads", str(threads)], capture_output=True, text=True, check=True)
                got[which] = json.loads(out.stdout.strip().splitlines()[-1])
            e, p = got["engine"], got["peer"]
            de, dp = e["peak_mb"] - e["base_mb"], p["peak_mb"] - p["base_mb"]
            row = (f"mem {size} {phase}", "MB", f"peak {e['peak_mb']:.0f} (+{de:.0f})",
                   f"peak {p['peak_mb']:.0f} (+{dp:.0f})",
                   f"peak {e['peak_mb'] / p['peak_mb']:.2f}x, growth {de / max(dp, 1e-9):.2f}x")
            ROWS.append(row)
            print(f"{row[0]:<34} {row[1]:<9} polymodal {row[2]:<28} hf-bart {row[3]:<28} engine/peer {row[4]}",
                  flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--sizes", default="tiny,medium", help="comma-separated model sizes (default tiny,medium)")
    ap.add_argument("--phases", default="train,gen,mem", help="any of train,gen,mem")
    ap.add_argument("--train-dtypes", default="fp32,bf16")
    ap.add_argument("--gen-dtypes", default="fp32")
    ap.add_argument("--gen-sizes", default="tiny,medium",
                    help="sizes for the generation phase (default tiny,medium, as for training)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="about one minute: tiny only, 2 repeats, no memory")
    ap.add_argument("--memory-child", nargs=3, metavar=("WHICH", "SIZE", "PHASE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(*args.memory_child, threads=args.threads)
        return
    sizes = args.sizes.split(",")
    gen_sizes = args.gen_sizes.split(",")
    phases = args.phases.split(",")
    repeats, warmup = args.repeats, args.warmup
    batches, beams = [1, BATCH], [1, 5]
    if args.quick:
        sizes, gen_sizes, repeats, warmup = ["tiny"], ["tiny"], 2, 1
        phases = [p for p in phases if p != "mem"]
    try:
        import transformers
    except ImportError:
        sys.exit("the peer, Hugging Face transformers, is not installed: `make install` puts it in .venv "
                 "(it is among requirements-dev.txt); run this with .venv/bin/python")

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {args.threads} "
          f"(torch.get_num_threads()={torch.get_num_threads()}), repeats {repeats}, warmup {warmup}; "
          f"figures are median [min-max]", flush=True)
    if "train" in phases:
        for size in sizes:
            bench_train(size, args.train_dtypes.split(","), repeats, warmup)
    if "gen" in phases:
        for size in gen_sizes:
            bench_generate(size, args.gen_dtypes.split(","), repeats, warmup, batches, beams)
    if "mem" in phases:
        bench_memory(sizes, ["train_fp32", "beam5_b16"], args.threads)
    print("\n| measurement | unit | polymodal median [min-max] | HF BART median [min-max] | ratio |")
    print("|---|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
