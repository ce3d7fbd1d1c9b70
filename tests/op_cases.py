"""The op table of test cases: one row per op application (op, input shapes incl. broadcasting, input domain).

``fn(m, *inputs)`` is written once for both libraries: ``m`` is ``autodiff`` or ``torch``, so the same row runs
on the project and on the oracle. ``op`` is the grad_fn name the output carries (a key of ``autodiff.ops.OPS``);
``covers`` names further ops the row exercises (inside ``fn`` or in its double backward), checked by walking the
graphs. Adding an op is one row here; ``tests/test_ops.py`` runs every check on every row.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    op: str
    fn: object
    shapes: tuple
    domain: tuple = (-2.0, 2.0)
    label: str = ""
    covers: tuple = ()
    eps: float = 1e-6        # central-difference step (float64)
    tol: float = 1e-6        # relative+absolute tolerance against finite differences
    fixed: tuple = ()        # explicit inputs (nested lists) instead of random ones: zeros, ties
    kink: bool = False       # the inputs sit where the op is not differentiable: torch's choice, no differences

    @property
    def id(self) -> str:
        return f"{self.op}-{self.label}" if self.label else self.op

    def inputs(self) -> list[np.ndarray]:
        """Deterministic float64 inputs in the row's domain (seeded by the row's id)."""
        if self.fixed:
            return [np.array(a, dtype=np.float64) for a in self.fixed]
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        low, high = self.domain
        return [rng.uniform(low, high, size=shape) for shape in self.shapes]


def C(op, fn, *shapes, **options):
    return Case(op, fn, tuple(shapes), **options)


def assigned(t, index, value):
    """``t`` after ``t[index] = value`` (an expression, for the rows)."""
    t[index] = value
    return t


def through_view(t, view, change):
    """``t`` after ``change(view(t))``: an in-place op on a view writes into ``t`` (CopySlices on ``t``)."""
    change(view(t))
    return t


def after_base_change(t, view, change):
    """``view(t)`` taken before ``change(t)`` changed ``t`` in place: its history is replayed from the new ``t``."""
    v = view(t)
    change(t)
    return v


POSITIVE = (0.5, 2.0)
M, V, S = (3, 4), (4,), ()

CASES = [
    # arithmetic, with broadcasting pairs
    C("AddBackward0", lambda m, x, y: m.add(x, y), (3, 4), (4,), label="row"),
    C("AddBackward0", lambda m, x, y: x + y, (2, 1, 3), (4, 1), label="outer"),
    C("AddBackward0", lambda m, x, y: m.add(x, y, alpha=2.5), S, (3,), label="alpha"),
    C("AddBackward0", lambda m, x: 2.5 + x, M, label="scalar"),
    C("SubBackward0", lambda m, x, y: x - y, (3, 1), (1, 4), label="outer"),
    C("SubBackward0", lambda m, x, y: m.sub(x, y, alpha=0.5), M, V, label="alpha"),
    C("RsubBackward1", lambda m, x: 1 - x, M),
    C("MulBackward0", lambda m, x, y: x * y, (2, 3, 4), (3, 1), label="broadcast"),
    C("MulBackward0", lambda m, x: x * 3, M, label="scalar"),
    C("MulBackward0", lambda m, x: 2.0 / x, M, domain=POSITIVE, label="rdiv", covers=("ReciprocalBackward0",)),
    C("DivBackward0", lambda m, x, y: x / y, M, V, domain=POSITIVE, label="broadcast"),
    C("DivBackward0", lambda m, x: x / 4.0, M, label="scalar"),
    C("ReciprocalBackward0", lambda m, x: m.reciprocal(x), M, domain=POSITIVE),
    C("NegBackward0", lambda m, x: -x, M),
    C("PowBackward0", lambda m, x: x ** 3, M, label="cube"),
    C("PowBackward0", lambda m, x: x ** 2, M, label="square"),
    C("PowBackward0", lambda m, x: m.square(x), M, label="torch.square"),
    C("PowBackward0", lambda m, x: x ** 2.5, M, domain=POSITIVE, label="real"),
    C("PowBackward0", lambda m, x: x ** -1.5, M, domain=POSITIVE, label="negative"),
    C("PowBackward1", lambda m, x, y: x ** y, M, V, domain=POSITIVE),
    C("PowBackward2", lambda m, x: 2 ** x, M),
    # unary functions
    C("AbsBackward0", lambda m, x: m.abs(x), M),
    C("ExpBackward0", lambda m, x: m.exp(x), M),
    C("LogBackward0", lambda m, x: m.log(x), M, domain=POSITIVE),
    C("SqrtBackward0", lambda m, x: m.sqrt(x), M, domain=POSITIVE),
    C("SinBackward0", lambda m, x: m.sin(x), M),
    C("CosBackward0", lambda m, x: m.cos(x), M),
    C("TanBackward0", lambda m, x: m.tan(x), M, domain=(-1.2, 1.2)),
    C("TanhBackward0", lambda m, x: m.tanh(x), M),
    C("SinhBackward0", lambda m, x: m.sinh(x), M),
    C("CoshBackward0", lambda m, x: x.cosh(), M),
    C("SigmoidBackward0", lambda m, x: m.sigmoid(x), M, domain=(-4.0, 4.0)),
    C("ReluBackward0", lambda m, x: m.relu(x), M),
    C("SignBackward0", lambda m, x: m.sign(x), M),
    C("ClampBackward1", lambda m, x: m.clamp(x, -0.5, 0.5), M),
    C("ClampBackward1", lambda m, x: m.clamp(x, min=0.1), M, label="min"),
    C("ClampBackward0", lambda m, x, lo, hi: m.clamp(x, lo, hi), M, V, (3, 1)),
    C("ClampBackward0", lambda m, x, lo: m.clamp(x, min=lo), M, V, label="min"),
    C("ClampBackward1", lambda m, x: x.clone().clamp_(max=0.3), M, label="inplace", covers=("CloneBackward0",)),
    C("MaximumBackward0", lambda m, x, y: m.maximum(x, y), M, V),
    C("MinimumBackward0", lambda m, x, y: m.minimum(x, y), (3, 1), V),
    C("MaximumBackward0", lambda m, x, y: m.max(x, y), V, M, label="max-pairwise"),
    C("WhereBackward0", lambda m, x, y: m.where(x > 0, x, y), M, V),
    C("WhereBackward0", lambda m, x: m.where(x > 0, x, 0.0), M, label="scalar"),
    C("AddcmulBackward0", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), M, V, M),
    C("AddcdivBackward0", lambda m, x, a, b: m.addcdiv(x, a, b, value=2.0), M, V, M, domain=POSITIVE),
    C("LerpBackward0", lambda m, x, end: m.lerp(x, end, 0.3), M, V),
    C("LerpBackward1", lambda m, x, end, w: m.lerp(x, end, w), M, V, M),
    # reductions
    C("SumBackward0", lambda m, x: m.sum(x), (2, 3, 4)),
    C("SumBackward1", lambda m, x: m.sum(x, 1), (2, 3, 4), label="dim"),
    C("SumBackward1", lambda m, x: x.sum((0, 2), keepdim=True), (2, 3, 4), label="dims-keepdim"),
    C("SumBackward1", lambda m, x: x.sum(()), M, label="empty-dims"),
    C("MeanBackward0", lambda m, x: m.mean(x), (2, 3, 4)),
    C("MeanBackward1", lambda m, x: x.mean(-1), (2, 3, 4), label="dim"),
    C("MeanBackward1", lambda m, x: m.mean(x, (0, 1), keepdim=True), (2, 3, 4), label="dims-keepdim"),
    C("ProdBackward0", lambda m, x: m.prod(x), M, domain=POSITIVE),
    C("ProdBackward1", lambda m, x: m.prod(x, 1), M),
    C("ProdBackward1", lambda m, x: x.prod(0, keepdim=True), M, label="keepdim"),
    C("MaxBackward1", lambda m, x: m.max(x), M),
    C("MinBackward1", lambda m, x: m.min(x), M),
    C("MaxBackward0", lambda m, x: m.max(x, 1).values, M),
    C("MaxBackward0", lambda m, x: x.max(dim=0, keepdim=True)[0], M, label="keepdim"),
    C("MinBackward0", lambda m, x: m.min(x, -1).values, (2, 3, 4)),
    C("AmaxBackward0", lambda m, x: m.amax(x, 1), M),
    C("AminBackward0", lambda m, x: m.amin(x, (0, 1)), M),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x), M),
    C("LinalgVectorNormBackward0", lambda m, x: x.norm(dim=1), M, label="dim"),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x, p=1), M, label="p1"),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x, p=3, dim=0, keepdim=True), M, label="p3"),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x, p=float("inf")), M, label="inf"),
    C("LogsumexpBackward0", lambda m, x: m.logsumexp(x, 1), M),
    C("LogsumexpBackward0", lambda m, x: m.logsumexp(x, (0, 1), keepdim=True), M, label="dims"),
    C("SoftmaxBackward0", lambda m, x: m.softmax(x, 1), M),
    C("SoftmaxBackward0", lambda m, x: x.softmax(0), (2, 3, 4), label="dim0"),
    C("LogSoftmaxBackward0", lambda m, x: m.log_softmax(x, -1), M),
    C("VarBackward0", lambda m, x: m.var(x), M),
    C("VarBackward0", lambda m, x: x.var(1, keepdim=True), M, label="dim"),
    C("VarBackward0", lambda m, x: m.var(x, 0, correction=0), M, label="correction0"),
    C("StdBackward0", lambda m, x: m.std(x), M),
    C("StdBackward0", lambda m, x: x.std(dim=(0, 1), keepdim=True), (2, 3, 4), label="dims"),
    # inverse trigonometric and hyperbolic functions, logarithms, erf, atan2, running sums (autodiff/ops/special.py)
    C("AsinBackward0", lambda m, x: m.asin(x), M, domain=(-0.9, 0.9)),
    C("AcosBackward0", lambda m, x: m.acos(x), M, domain=(-0.9, 0.9)),
    C("AtanBackward0", lambda m, x: m.atan(x), M),
    C("AsinhBackward0", lambda m, x: m.asinh(x), M),
    C("AcoshBackward0", lambda m, x: m.acosh(x), M, domain=(1.2, 3.0)),
    C("AtanhBackward0", lambda m, x: x.atanh(), M, domain=(-0.9, 0.9)),
    C("Log1PBackward0", lambda m, x: m.log1p(x), M, domain=(-0.5, 2.0)),
    C("Expm1Backward0", lambda m, x: m.expm1(x), M),
    C("Log2Backward0", lambda m, x: m.log2(x), M, domain=POSITIVE),
    C("Log10Backward0", lambda m, x: x.log10(), M, domain=POSITIVE),
    C("ErfBackward0", lambda m, x: m.erf(x), M),
    C("Atan2Backward0", lambda m, x, y: m.atan2(x, y), M, V),
    C("CumsumBackward0", lambda m, x: m.cumsum(x, 1), M),
    C("CumsumBackward0", lambda m, x: x.cumsum(dim=0), (2, 3, 4), label="dim0"),
    C("CumsumBackward0", lambda m, x: x.cumsum(0), S, label="0-d"),
    # sorting and selecting by rank (the VJP scatters with an index_put)
    C("SortBackward0", lambda m, x: m.sort(x, 1).values, M, covers=("IndexPutBackward0",)),
    C("SortBackward0", lambda m, x: x.sort(dim=0, descending=True)[0], M, label="descending"),
    C("TopkBackward0", lambda m, x: m.topk(x, 2).values, M),
    C("TopkBackward0", lambda m, x: x.topk(2, dim=0, largest=False)[0], M, label="smallest"),
    C("SortBackward0", lambda m, x: m.sort(x).values, S, label="0-d"),
    C("TopkBackward0", lambda m, x: m.topk(x, 1).values, S, label="0-d"),
    # linalg
    C("LinalgEighBackward0", lambda m, x: m.linalg.eigvalsh(x + x.mT), (3, 3),
      covers=("TransposeBackward0", "LinalgEighVectorsBackward0")),
    C("PowBackward0", lambda m, x: m.linalg.eigh(x + x.mT).eigenvectors ** 2, (3, 3), label="eigenvectors",
      covers=("LinalgEighBackward0",)),
    C("LinalgEighBackward0", lambda m, x: m.linalg.eigvalsh(x @ x.mT), (2, 3, 3), label="batched"),
    C("LinalgVectorNormBackward0", lambda m, x: m.linalg.vector_norm(x, 3, dim=1), M, label="linalg.vector_norm"),
    C("LinalgVectorNormBackward0", lambda m, x: m.linalg.norm(x), M, label="linalg.norm"),
    C("AmaxBackward0", lambda m, x: m.linalg.norm(x, ord=1), M, label="linalg.norm-ord1"),
    C("AminBackward0", lambda m, x: m.linalg.norm(x, ord=-float("inf"), dim=(1, 0)), M, label="linalg.norm-ord-inf"),
    # nn.functional: layers and losses written with the ops above (the last node carries torch's name)
    C("AddmmBackward0", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (2, 3), (4, 3), (4,),
      covers=("MmBackward0", "TBackward0")),
    C("UnsafeViewBackward0", lambda m, x, w: m.nn.functional.linear(x, w), (2, 2, 3), (4, 3), label="linear-3d"),
    C("MseLossBackward0", lambda m, x, y: m.nn.functional.mse_loss(x, y), M, M),
    C("MseLossBackward0", lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction="sum"), M, M, label="sum"),
    C("BinaryCrossEntropyWithLogitsBackward0",
      lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(x, m.sigmoid(y)), M, M),
    C("BinaryCrossEntropyWithLogitsBackward0",
      lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
          x, m.tensor([[0.0, 1.0, 1.0, 0.0]] * 3, dtype=x.dtype), m.tensor([0.5, 1.0, 2.0, 1.5], dtype=x.dtype),
          reduction="sum", pos_weight=m.tensor([1.0, 2.0, 0.5, 3.0], dtype=x.dtype)), M, label="weights"),
    C("NllLossBackward0", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 3, 1])), M),
    C("NllLossBackward0", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor([0, 3, 1]), weight=m.tensor([0.5, 1.0, 2.0, 1.5], dtype=m.float64), reduction="none"), M,
      label="weights-none"),
    C("NllLossBackward0", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor([0, 3, 1]), weight=m.tensor([0.5, 1.0, 2.0, 1.5], dtype=m.float64)), M, label="weights-mean"),
    C("NllLoss2DBackward0", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([[2, -100], [0, 1]])),
      (2, 3, 2), label="spatial-ignore"),
    C("AddBackward0", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 3, 1]), label_smoothing=0.1),
      M, label="label-smoothing"),
    C("DivBackward1", lambda m, x, p: m.nn.functional.cross_entropy(x, p.softmax(1)), M, M, label="probabilities"),
    C("SoftmaxBackward0", lambda m, x: m.nn.functional.softmax(x, dim=0), M, label="functional"),
    # products
    C("DotBackward0", lambda m, x, y: m.dot(x, y), V, V),
    C("MvBackward0", lambda m, x, y: m.mv(x, y), M, V),
    C("MmBackward0", lambda m, x, y: x @ y, (2, 3), M),
    C("MmBackward0", lambda m, x, y: m.mm(x, y), (2, 3), M, label="mm"),
    C("SqueezeBackward4", lambda m, x, y: x @ y, (3,), M, label="vector-matrix"),
    C("UnsafeViewBackward0", lambda m, x, y: m.matmul(x, y), (2, 2, 3), M, label="batched"),
    C("UnsafeViewBackward0", lambda m, x, y: x @ y, (2, 2, 3), (2, 3, 4), label="bmm"),
    C("BmmBackward0", lambda m, x, y: m.bmm(x, y), (2, 2, 3), (2, 3, 4)),
    C("UnsafeViewBackward0", lambda m, x, y: x @ y, (2, 3, 4), V, label="batched-vector"),
    C("CloneBackward0", lambda m, x, y: x @ y, (2, 3), (2, 3, 4), label="matrix-batch"),
    C("MulBackward0", lambda m, x, y: m.outer(x, y), (3,), V, label="outer"),
    # torch's choices at zeros and ties (subgradients), compared with torch only
    C("ProdBackward0", lambda m, x: m.prod(x), (2, 3), fixed=([[1.5, 0.0, 2.0], [-1.0, 3.0, 0.5]],), label="one-zero"),
    C("ProdBackward1", lambda m, x: m.prod(x, 1), (2, 3), fixed=([[0.0, 0.0, 2.0], [-1.0, 0.0, 0.5]],),
      label="two-zeros"),
    C("MaxBackward1", lambda m, x: m.max(x), (2, 3), fixed=([[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]],), label="ties",
      kink=True),
    C("MaxBackward0", lambda m, x: m.max(x, 1).values, (2, 3), fixed=([[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]],),
      label="ties", kink=True),
    C("AminBackward0", lambda m, x: m.amin(x, 0), (2, 3), fixed=([[1.0, 0.0, 2.0], [1.0, 0.0, 3.0]],),
      label="ties", kink=True),
    C("MaximumBackward0", lambda m, x, y: m.maximum(x, y), (3,), (3,), fixed=([1.0, 2.0, 3.0], [1.0, 0.0, 3.0]),
      label="ties", kink=True),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x), (3,), fixed=([0.0, 0.0, 0.0],), label="zero",
      kink=True),
    C("LinalgVectorNormBackward0", lambda m, x: m.norm(x, p=float("inf")), (3,), fixed=([1.0, -3.0, 3.0],),
      label="inf-ties", kink=True),
    C("AbsBackward0", lambda m, x: m.abs(x), (3,), fixed=([0.0, -1.0, 2.0],), label="zero", kink=True),
    C("ReluBackward0", lambda m, x: m.relu(x), (3,), fixed=([0.0, -1.0, 2.0],), label="zero", kink=True),
    C("ClampBackward1", lambda m, x: m.clamp(x, 0.0, 1.0), (4,), fixed=([0.0, 1.0, 0.5, 2.0],), label="bounds",
      kink=True),
    C("StdBackward0", lambda m, x: m.std(x, 1), (2, 3), fixed=([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]],),
      label="constant-row", kink=True),
    C("SqrtBackward0", lambda m, x: m.sqrt(x), (2,), fixed=([0.0, 4.0],), label="zero", kink=True),
    # shapes
    C("ViewBackward0", lambda m, x: x.reshape(4, 3), M),
    C("ViewBackward0", lambda m, x: m.flatten(x), (2, 3, 4), label="flatten"),
    C("ViewBackward0", lambda m, x: x.view(-1), M, label="view"),
    C("TransposeBackward0", lambda m, x: m.transpose(x, 0, 2), (2, 3, 4)),
    C("TBackward0", lambda m, x: x.t(), M),
    C("PermuteBackward0", lambda m, x: x.permute(2, 0, 1), (2, 3, 4)),
    C("PermuteBackward0", lambda m, x: x.T, M, label="T"),
    C("SqueezeBackward0", lambda m, x: x.squeeze(), (3, 1, 4)),
    C("SqueezeBackward1", lambda m, x: m.squeeze(x, 1), (3, 1, 4), label="dim"),
    C("SqueezeBackward2", lambda m, x: x.squeeze((1, 2)), (3, 1, 1, 4), label="dims"),
    C("UnsqueezeBackward0", lambda m, x: m.unsqueeze(x, 1), M),
    C("UnsqueezeBackward0", lambda m, x: x[None], M, label="none-index"),
    C("ExpandBackward0", lambda m, x: x.expand(2, 3, 4), (3, 1)),
    C("ExpandBackward0", lambda m, x, y: m.meshgrid(x, y, indexing="ij")[0], (3,), V, label="meshgrid-ij",
      covers=("ViewBackward0",)),
    C("ExpandBackward0", lambda m, x, y: m.meshgrid(x, y, indexing="xy")[1], (3,), V, label="meshgrid-xy"),
    C("RepeatBackward0", lambda m, x: x.repeat(2, 3), M),
    C("RepeatBackward0", lambda m, x: x.repeat(2, 1, 2), (3,), label="new-dims"),
    C("TransposeBackward0", lambda m, x: m.swapaxes(x, 0, 2), (2, 3, 4), label="swapaxes"),
    C("CloneBackward0", lambda m, x: m.clone(x), M),
    C("ToCopyBackward0", lambda m, x: x.to(m.float32), M, eps=1e-2, tol=1e-4),
    C("CatBackward0", lambda m, x, y: m.cat([x, y], 1), M, (3, 2)),
    C("CatBackward0", lambda m, x, y: m.cat((x, y)), M, (1, 4), label="dim0"),
    C("StackBackward0", lambda m, x, y: m.stack([x, y], 1), M, M),
    # indexing (the VJP scatters with IndexPutBackward0, which the double backward records)
    C("SelectBackward0", lambda m, x: x[1], M, covers=("IndexPutBackward0",)),
    C("SelectBackward0", lambda m, x: x[:, -1], M, label="column"),
    C("SliceBackward0", lambda m, x: x[1:3], M),
    C("SliceBackward0", lambda m, x: x[1, 1:3], (2, 3, 4), label="int-slice"),
    C("IndexBackward0", lambda m, x: x[[0, 2, 0, 0]], M, label="repeated"),
    C("IndexBackward0", lambda m, x: x[:, [1, 1, 3]], M, label="column-list"),
    C("IndexBackward0", lambda m, x: x[m.tensor([True, False, True])], M, label="mask"),
    C("IndexBackward0", lambda m, x: x[x > 0], M, label="value-mask"),
    C("AliasBackward0", lambda m, x: x[...], M),
    C("CopySlices", lambda m, x, v: assigned(x * 1, (slice(None), slice(1, 3)), v), M, (2,),
      covers=("MulBackward0",)),
    C("CopySlices", lambda m, x, v: assigned(x * 1, 1, v), M, S, label="broadcast-row"),
    C("IndexPutBackward0", lambda m, x, v: assigned(x * 1, [2, 0], v), M, V, label="assign"),
    # in-place ops on views: torch's CopySlices on the base; the double backward overwrites the view's region
    C("CopySlices", lambda m, x, w: through_view(x * 1, lambda y: y[1], lambda v: v.mul_(w)), M, V,
      label="view-mul_", covers=("AsStridedScatterBackward0",)),
    C("CopySlices", lambda m, x: through_view(x * 1, lambda y: y[:, 1:3], lambda v: v.exp_()), M, label="view-exp_"),
    C("CopySlices", lambda m, x, w: through_view(x * 1, lambda y: y[1:][0, 1:], lambda v: v.addcmul_(w, v * 1)),
      M, (3,), label="view-of-view"),
    C("CopySlices", lambda m, x, w: through_view(x * 1, lambda y: y.t()[2], lambda v: v.sin_().add_(w)), M, (3,),
      label="transposed-view"),
    C("CopySlices", lambda m, x, w: through_view(x * 1, lambda y: y.reshape(2, 6)[:, ::2], lambda v: v.copy_(w)),
      M, (2, 3), label="reshaped-view"),
    # a view taken before its base changed in place: replayed from the base (AsStridedBackward0)
    C("AsStridedBackward0", lambda m, x, w: after_base_change(x * 1, lambda y: y[1:, 2], lambda y: y.mul_(w)), M, V),
    C("AsStridedBackward0", lambda m, x, w: after_base_change(x * 1, lambda y: y.expand(2, 3, 4), lambda y: y.mul_(w)),
      M, V, label="expanded"),
    C("MulBackward0", lambda m, x, w: after_base_change(x * 1, lambda y: y[0], lambda y: y[1].sin_()) * w, M, V,
      label="view-after-sibling-change", covers=("AsStridedBackward0", "CopySlices")),
    # in-place ops on non-leaves (torch rebases the history onto the in-place node)
    C("FillBackward2", lambda m, x: (x * 1).fill_(2.0), M, covers=("MulBackward0",)),
    C("ZeroBackward0", lambda m, x: (x * 1).zero_(), M),
    C("CopyBackwards", lambda m, x, y: (x * 1).copy_(y), M, V),
    C("AddBackward0", lambda m, x, y: (x * 1).add_(y, alpha=2), M, V, label="add_"),
    C("MulBackward0", lambda m, x, y: (x * 1).mul_(y), M, V, label="mul_"),
    C("DivBackward0", lambda m, x, y: (x * 1).div_(y), M, V, domain=POSITIVE, label="div_"),
    C("SubBackward0", lambda m, x, y: (x + 0).sub_(y), M, M, label="sub_"),
    C("ExpBackward0", lambda m, x: (x * 1).exp_(), M, label="exp_"),
]


# -- evaluating a row, the same code for autodiff and torch ----------------------------------------------------------

def grad_fn_name(node) -> str:
    """``SumBackward0`` from either library's grad_fn (both print ``<SumBackward0 object at 0x...>``)."""
    return repr(node)[1:].split(" ")[0]


def directions(case: Case, out_shape) -> dict:
    """Seeded cotangent ``v`` (output shape), tangents ``u`` and second-order directions ``w`` (input shapes)."""
    rng = np.random.default_rng(zlib.crc32((case.id + "/directions").encode()))
    return {"v": rng.standard_normal(out_shape),
            "u": [rng.standard_normal(s) for s in case.shapes],
            "w": [rng.standard_normal(s) for s in case.shapes]}


def _numpy(t, shape):
    return np.zeros(shape) if t is None else t.detach().numpy(force=True).astype(np.float64)


def first_order(m, case, arrays, v, *, create_graph=False):
    """(output, inputs, cotangent, grads): grads of <v, fn(x)> w.r.t. the inputs (None where unused)."""
    xs = [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]
    out = case.fn(m, *xs)
    vt = m.tensor(v, dtype=out.dtype, requires_grad=create_graph)
    grads = m.autograd.grad(out, xs, vt, create_graph=create_graph, allow_unused=True)
    return out, xs, vt, grads


def evaluate(m, case: Case, arrays, dirs) -> dict:
    """Everything the tests compare, as float64 arrays: value, VJPs, JVP, second order, grad_fn name."""
    out, xs, vt, grads = first_order(m, case, arrays, dirs["v"], create_graph=True)
    result = {"name": grad_fn_name(out.grad_fn), "value": out.detach().numpy(force=True).astype(np.float64),
              "grads": [_numpy(g, a.shape) for g, a in zip(grads, arrays)],
              "grad_names": [grad_fn_name(g.grad_fn) if g is not None and g.grad_fn is not None else ""
                             for g in grads]}
    # second order, as torch's gradgradcheck: d/d(x, v) of sum_i <grad_i(x, v), w_i>
    terms = [(g * m.tensor(w, dtype=g.dtype)).sum() for g, w in zip(grads, dirs["w"])
             if g is not None and g.requires_grad]
    if terms:
        s = terms[0]
        for t in terms[1:]:
            s = s + t
        second = m.autograd.grad(s, xs + [vt], allow_unused=True)
    else:
        second = [None] * (len(xs) + 1)
    result["second"] = [_numpy(g, a.shape) for g, a in zip(second, list(arrays) + [dirs["v"]])]
    if dirs["u"] is None:
        return result
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        duals = [fwd.make_dual(m.tensor(a, dtype=m.float64), m.tensor(u, dtype=m.float64))
                 for a, u in zip(arrays, dirs["u"])]
        tangent = fwd.unpack_dual(case.fn(m, *duals)).tangent
    result["jvp"] = _numpy(tangent, result["value"].shape)
    return result


def forward_over_reverse(m, case, arrays, dirs):
    """Second order in forward mode: the tangent of grad_i(x, v) when x moves along w (a Hessian-vector product)."""
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        duals = [fwd.make_dual(m.tensor(a, dtype=m.float64, requires_grad=True), m.tensor(w, dtype=m.float64))
                 for a, w in zip(arrays, dirs["w"])]
        out = case.fn(m, *duals)
        grads = m.autograd.grad(out, duals, m.tensor(dirs["v"], dtype=out.dtype), create_graph=True,
                                allow_unused=True)
        tangents = [None if g is None else fwd.unpack_dual(g).tangent for g in grads]
    return [_numpy(t, a.shape) for t, a in zip(tangents, arrays)]
