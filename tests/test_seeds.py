"""The four seed notebooks (shared/seeds/), cell by cell, with autodiff's names in place of torch's.

Each notebook is written below as its cells: ``In:`` the code (``torch`` reads ``ad``, ``torch.optim`` reads
``optimizers``), ``Out:`` what the notebook printed or displayed (``torch.`` reads ``autodiff.`` in type names),
``Warns:`` the start of a warning the cell must issue. Cells run in order in one namespace, as in Jupyter: the
value of a final expression is displayed with ``repr`` (IPython shows a class as ``module.name``), an uncaught
exception is displayed as ``Type: message``. One test per cell, so a failure names the cell.
"""
from __future__ import annotations

import ast
import contextlib
import io
import pathlib
import re
import warnings

import pytest

import autodiff as ad

# Seed 003 ran in Colab, which prints "RuntimeError: ignored" in place of the message; torch's message is this.
NON_SCALAR = "RuntimeError: grad can be implicitly created only for scalar outputs"

NOTEBOOK_000 = r"""
In:
import autodiff as ad
In:
a = ad.tensor([2., 3.])
print(a.shape)
a
Out:
autodiff.Size([2])
tensor([2., 3.])
In:
a = ad.tensor([2., 3.])
b = ad.tensor([6., 4.])
In:
L = ad.sum((3*a**3 - b**2))
L
Out:
tensor(53.)
In:
L.backward()
Out:
RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
In:
L.requires_grad
Out:
False
In:
a.requires_grad, b.requires_grad
Out:
(False, False)
In:
a.requires_grad = True
b.requires_grad = True
In:
a.requires_grad, b.requires_grad
Out:
(True, True)
In:
L = ad.sum((3*a**3 - b**2))
L
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
L.requires_grad
Out:
True
In:
L.backward()
In:
a.grad
Out:
tensor([36., 81.])
In:
b.grad
Out:
tensor([-12.,  -8.])
In:
from optimizers import SGD
In:
c = ad.tensor([2., 3.], requires_grad=True)
d = ad.tensor([6., 4.], requires_grad=True)
In:
c0 = c.clone()
d0 = d.clone()
In:
lr = 0.1
optimizer = SGD([c, d], lr=lr)
optimizer
Out:
SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    momentum: 0
    nesterov: False
    weight_decay: 0
)
In:
loss = ad.sum((3*c**3 - d**2))
loss
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
print(c.grad)
print(d.grad)
Out:
None
None
In:
loss.backward()
In:
print(c.grad)
print(d.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
optimizer.step()
In:
print(c)
print(c0-lr*c.grad)
Out:
tensor([-1.6000, -5.1000], requires_grad=True)
tensor([-1.6000, -5.1000], grad_fn=<SubBackward0>)
In:
print(d)
print(d0-lr*d.grad)
Out:
tensor([7.2000, 4.8000], requires_grad=True)
tensor([7.2000, 4.8000], grad_fn=<SubBackward0>)
In:
from optimizers import Adam
In:
c = ad.tensor([2., 3.], requires_grad=True)
d = ad.tensor([6., 4.], requires_grad=True)
In:
c0 = c.clone()
d0 = d.clone()
In:
lr = 0.1
optimizer = Adam([c, d], lr=lr)
optimizer
Out:
Adam (
Parameter Group 0
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    weight_decay: 0
)
In:
loss = ad.sum((3*c**3 - d**2))
loss
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
loss.backward()
In:
print(c.grad)
print(d.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
optimizer.step()
In:
print(c)
print(d)
Out:
tensor([1.9000, 2.9000], requires_grad=True)
tensor([6.1000, 4.1000], requires_grad=True)
In:
c1 = c.clone()
d1 = d.clone()
In:
eps = 1e-08
beta1 = 0.9
beta2 = 0.999

g1 = c.grad.clone()
m0 = 0
v0 = 0
m1 = beta1*m0 + (1-beta1)*g1
v1 = beta2*v0 + (1-beta2)*g1**2
m1_hat = m1/(1-beta1**1)
v1_hat = v1/(1-beta2**1)

c0 - lr*m1_hat/(ad.sqrt(v1_hat)+eps)
Out:
tensor([1.9000, 2.9000], grad_fn=<SubBackward0>)
In:
optimizer.zero_grad()
In:
print(c.grad)
print(d.grad)
Out:
None
None
In:
loss = ad.sum((3*c**3 - d**2))
loss
Out:
tensor(39.7240, grad_fn=<SumBackward0>)
In:
loss.backward()
In:
print(c.grad)
print(d.grad)
Out:
tensor([32.4900, 75.6900])
tensor([-12.2000,  -8.2000])
In:
optimizer.step()
In:
print(c)
print(d)
Out:
tensor([1.8004, 2.8002], requires_grad=True)
tensor([6.2000, 4.2001], requires_grad=True)
In:
g2 = c.grad.clone()
m2 = beta1*m1 + (1-beta1)*g2
v2 = beta2*v1 + (1-beta2)*g2**2
m2_hat = m2/(1-beta1**2)
v2_hat = v2/(1-beta2**2)

c1 - lr*m2_hat/(ad.sqrt(v2_hat)+eps)
Out:
tensor([1.8004, 2.8002], grad_fn=<SubBackward0>)
"""

NOTEBOOK_001 = r"""
In:
import autodiff as ad
In:
dLda = lambda a: ad.Tensor([9*a[0]**2, 9*a[1]**2])
dLdb = lambda b: ad.Tensor([-2*b[0], -2*b[1]])
In:
a = ad.tensor([2., 3.])
b = ad.tensor([6., 4.])

L = ad.sum((3*a**3 - b**2))
L
Out:
tensor(53.)
In:
try: 
    L.backward()
except Exception as e:
    print(e)
Out:
element 0 of tensors does not require grad and does not have a grad_fn
In:
L.requires_grad
Out:
False
In:
print(a.requires_grad)
print(b.requires_grad)
Out:
False
False
In:
a.requires_grad = True
b.requires_grad = True
In:
print(a.requires_grad)
print(b.requires_grad)
Out:
True
True
In:
L = ad.sum((3*a**3 - b**2))
L
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
L.requires_grad
Out:
True
In:
L.backward()
In:
print(a.grad)
print(b.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
print(dLda(a))
print(dLdb(b))
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
from optimizers import SGD
In:
a = ad.tensor([2., 3.], requires_grad=True)
b = ad.tensor([6., 4.], requires_grad=True)
In:
a0 = a.clone()
b0 = b.clone()
In:
lr = 0.005
optimizer = SGD([a, b], lr=lr)
optimizer
Out:
SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.005
    maximize: False
    momentum: 0
    nesterov: False
    weight_decay: 0
)
In:
loss = ad.sum((3*a**3 - b**2))
loss
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
print(a.grad)
print(b.grad)
Out:
None
None
In:
loss.backward()
In:
print(a.grad)
print(b.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
print(a)
print(b)
Out:
tensor([2., 3.], requires_grad=True)
tensor([6., 4.], requires_grad=True)
In:
optimizer.step()
In:
print(a)
print(b)
Out:
tensor([1.8200, 2.5950], requires_grad=True)
tensor([6.0600, 4.0400], requires_grad=True)
In:
print(a)
print(a0-lr*a.grad)
Out:
tensor([1.8200, 2.5950], requires_grad=True)
tensor([1.8200, 2.5950], grad_fn=<SubBackward0>)
In:
print(b)
print(b0-lr*b.grad)
Out:
tensor([6.0600, 4.0400], requires_grad=True)
tensor([6.0600, 4.0400], grad_fn=<SubBackward0>)
In:
loss = ad.sum((3*a**3 - b**2))
loss
Out:
tensor(17.4649, grad_fn=<SumBackward0>)
In:
loss.backward()
In:
print(a.grad)
print(b.grad)
Out:
tensor([ 65.8116, 141.6062])
tensor([-24.1200, -16.0800])
In:
print(dLda(a))
print(dLdb(b))
Out:
tensor([29.8116, 60.6062])
tensor([-12.1200,  -8.0800])
In:
print(a.grad - dLda(a0))
print(b.grad - dLdb(b0))
Out:
tensor([29.8116, 60.6062])
tensor([-12.1200,  -8.0800])
In:
a = ad.tensor([2., 3.], requires_grad=True)
b = ad.tensor([6., 4.], requires_grad=True)

lr = 0.005
optimizer = SGD([a, b], lr=lr)

print('===============')
print(a.grad)
print(b.grad)
L = ad.sum((3*a**3 - b**2))
L.backward()
print(L)
print()
print(a.grad)
print(b.grad)
print()
print(dLda(a))
print(dLdb(b))

print('===============')
optimizer.step()
print(a)
print(b)

print('===============')
optimizer.zero_grad()
print(a.grad)
print(b.grad)

print('===============')
L = ad.sum((3*a**3 - b**2))
L.backward()
print(L)
print()
print(a.grad)
print(b.grad)
print()
print(dLda(a))
print(dLdb(b))
Out:
===============
None
None
tensor(53., grad_fn=<SumBackward0>)

tensor([36., 81.])
tensor([-12.,  -8.])

tensor([36., 81.])
tensor([-12.,  -8.])
===============
tensor([1.8200, 2.5950], requires_grad=True)
tensor([6.0600, 4.0400], requires_grad=True)
===============
None
None
===============
tensor(17.4649, grad_fn=<SumBackward0>)

tensor([29.8116, 60.6062])
tensor([-12.1200,  -8.0800])

tensor([29.8116, 60.6062])
tensor([-12.1200,  -8.0800])
In:
L.item()
Out:
17.464889526367188
In:
type(L)
Out:
autodiff.Tensor
In:
type(L.item())
Out:
float
In:
from optimizers import Adam
In:
a = ad.tensor([2., 3.], requires_grad=True)
b = ad.tensor([6., 4.], requires_grad=True)

a0 = a.clone()
b0 = b.clone()

lr = 0.1
optimizer = Adam([a, b], lr=lr)
optimizer
Out:
Adam (
Parameter Group 0
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    weight_decay: 0
)
In:
loss = ad.sum((3*a**3 - b**2))
loss
Out:
tensor(53., grad_fn=<SumBackward0>)
In:
print(a.grad)
print(b.grad)
Out:
None
None
In:
loss.backward()
In:
print(a.grad)
print(b.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
print(a)
print(b)
Out:
tensor([2., 3.], requires_grad=True)
tensor([6., 4.], requires_grad=True)
In:
optimizer.step()
In:
print(a)
print(b)
Out:
tensor([1.9000, 2.9000], requires_grad=True)
tensor([6.1000, 4.1000], requires_grad=True)
In:
eps = 1e-08
beta1 = 0.9
beta2 = 0.999

g1 = a.grad.clone()
m0 = 0
v0 = 0
m1 = beta1*m0 + (1-beta1)*g1
v1 = beta2*v0 + (1-beta2)*g1**2
m1_hat = m1/(1-beta1**1)
v1_hat = v1/(1-beta2**1)

print(a0 - lr*m1_hat/(ad.sqrt(v1_hat)+eps))
print(a)
Out:
tensor([1.9000, 2.9000], grad_fn=<SubBackward0>)
tensor([1.9000, 2.9000], requires_grad=True)
In:
print(a.grad)
Out:
tensor([36., 81.])
In:
optimizer.zero_grad()
In:
print(a.grad)
Out:
None
In:
loss = ad.sum((3*a**3 - b**2))
loss
Out:
tensor(39.7240, grad_fn=<SumBackward0>)
In:
loss.backward()
In:
print(a.grad)
Out:
tensor([32.4900, 75.6900])
In:
print(a)
Out:
tensor([1.9000, 2.9000], requires_grad=True)
In:
a1 = a.clone()
In:
optimizer.step()
In:
print(a)
Out:
tensor([1.8004, 2.8002], requires_grad=True)
In:
g2 = a.grad.clone()
m2 = beta1*m1 + (1-beta1)*g2
v2 = beta2*v1 + (1-beta2)*g2**2
m2_hat = m2/(1-beta1**2)
v2_hat = v2/(1-beta2**2)

print(a1 - lr*m2_hat/(ad.sqrt(v2_hat)+eps))
print(a)
Out:
tensor([1.8004, 2.8002], grad_fn=<SubBackward0>)
tensor([1.8004, 2.8002], requires_grad=True)
"""

NOTEBOOK_002 = r"""
In:
import autodiff as ad
In:
# assign x an initial value
x = ad.arange(4.0, requires_grad=True)
print(f"x={x.detach().numpy()}",
      f"\nGradient: {x.grad}") # the gradient is None by default
Out:
x=[0. 1. 2. 3.] 
Gradient: None
In:
# calculate y which is equal to 2 * x * x
y = 2 * ad.dot(x, x)
print(f"y = {y.detach().numpy()}")
Out:
y = 28.0
In:
y.backward() # take the gradient of y with respect to x
# >> the result of backward is 4x for now

# access the gradient
print(f"x={x.detach().numpy()}",
      f"\nGradient={x.grad.detach().numpy()}")
Out:
x=[0. 1. 2. 3.] 
Gradient=[ 0.  4.  8. 12.]
In:
# check the value of the backward
print(x.grad == 4 * x)
Out:
tensor([True, True, True, True])
In:
x.grad.zero_() # Reset the gradient
y = x.sum()
y.backward() # take the gradient which is x
x, x.grad # access the gradient of x which is 1
Out:
(tensor([0., 1., 2., 3.], requires_grad=True), tensor([1., 1., 1., 1.]))
In:
x.grad.zero_()
y = x * x
y.sum().backward()
x, x.grad
Out:
(tensor([0., 1., 2., 3.], requires_grad=True), tensor([0., 2., 4., 6.]))
In:
x.grad.zero_() # reset the gradient
y = x * x
u = y.detach()
z = u * x

z.sum().backward()
print(x, '\n', y, '\n', u, '\n', x.grad == u)
Out:
tensor([0., 1., 2., 3.], requires_grad=True) 
 tensor([0., 1., 4., 9.], grad_fn=<MulBackward0>) 
 tensor([0., 1., 4., 9.]) 
 tensor([True, True, True, True])
In:
def f(a):
  b = a * 2
  while b.norm() < 1000:
    b = b * 2
  if b.sum() > 0:
    c = b
  else:
    c = 100 * b
  return c
In:
a = ad.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
In:
a.grad == d / a
Out:
tensor(True)
"""

NOTEBOOK_003 = r"""
In:
import autodiff as ad
In:
x = ad.tensor(2., requires_grad = True)
y = ad.tensor(3., requires_grad = True)

f = 3*x**3 - y**2
print(f)


# This computes the gradient
f.backward()

# The derivative of f with respect to x is 9*x^2   -- Let's see if this is calculated correctly at x==2
# We expect it to be 9*2^2 = 36

print(x.grad)

# The derivative of f with respect to y is -2*y   -- Let's see if this is calculated correctly at y==3
# We expect it to be -2*3 = -6

print(y.grad)
Out:
tensor(15., grad_fn=<SubBackward0>)
tensor(36.)
tensor(-6.)
In:
# Notice how our tensors are now vectors


x = ad.tensor([2., 3.], requires_grad=True)
y = ad.tensor([6., 4.], requires_grad=True)



F = 3*x**3 - y**2
print(F)
Out:
tensor([-12.,  65.], grad_fn=<SubBackward0>)
In:
F.backward()
Out:
""" + NON_SCALAR + r"""
In:
T = ad.tensor([1., 1.])
F.backward(gradient=T)
In:
print(x.grad)
print(y.grad)
Out:
tensor([36., 81.])
tensor([-12.,  -8.])
In:
# now let's try to assess the gradient of F
print(F.grad)
Out:
None
Warns:
UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.
In:
x = ad.tensor(2., requires_grad = True)
y = ad.tensor(3., requires_grad = True)

f = 3*ad.cos(x) - ad.sin(y)**2

# This computes the gradient
f.backward()


print(x.grad)


print(y.grad)
Out:
tensor(-2.7279)
tensor(0.2794)
In:
x = ad.tensor(2., requires_grad = True)
y = ad.tensor(3., requires_grad = False)

f = 3*ad.cos(x) - ad.sin(y)**2

# This computes the gradient
f.backward()


print(x.grad)
print(y.grad)
Out:
tensor(-2.7279)
None
"""


def parse_cells(text: str):
    """[(code, expected output, expected warning or None)] from the In:/Out:/Warns: layout above."""
    cells = []
    for chunk in text.split("\nIn:\n")[1:]:
        code, _, rest = chunk.partition("\nOut:\n")
        out, _, warns = rest.partition("\nWarns:\n")
        out = "\n".join(line.rstrip() for line in out.rstrip("\n").split("\n"))
        cells.append((code.rstrip("\n"), out, warns.strip() or None))
    return cells


def display(value) -> str:
    """What Jupyter shows for a cell's final expression (IPython prints a class as module.name)."""
    if isinstance(value, type):
        module = value.__module__
        return value.__qualname__ if module == "builtins" else f"{module}.{value.__qualname__}"
    return repr(value)


def run_cell(code: str, namespace: dict):
    """Run one cell as Jupyter does; return (printed and displayed text, warnings issued)."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    buffer = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buffer):
        warnings.simplefilter("always")
        try:
            exec(compile(tree, "<cell>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                if value is not None:
                    print(display(value))
        except Exception as error:   # a notebook shows the exception as its output
            print(f"{type(error).__name__}: {error}")
    text = "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))
    return text, [f"{w.category.__name__}: {w.message}" for w in caught]


NOTEBOOKS = {"000": NOTEBOOK_000, "001": NOTEBOOK_001, "002": NOTEBOOK_002, "003": NOTEBOOK_003}
CELLS = {name: parse_cells(text) for name, text in NOTEBOOKS.items()}
_results: dict[str, list] = {}


def notebook_results(name: str):
    """Every cell's output, running the notebook once per session (later cells depend on earlier ones)."""
    if name not in _results:
        ad.manual_seed(0)   # the control-flow cell draws randn
        namespace: dict = {}
        _results[name] = [run_cell(code, namespace) for code, _, _ in CELLS[name]]
    return _results[name]


# The one adaptation of a seed's text to torch 2.13: the seeds were made with an older torch, whose Adam had no
# `decoupled_weight_decay` option; torch 2.13 (and so optimizers.Adam) prints it, a group's keys being printed in
# sorted order, between `capturable` and `differentiable`. Those cells' seed printout is checked, strictly, with
# that one line inserted there (test_the_adam_adaptation_is_what_torch_2_13_prints pins it to torch).
DECOUPLED_LINE = "    decoupled_weight_decay: False"
ADAM_REPR_CELLS = {("000", 28), ("001", 36)}


def as_torch_2_13_prints(seed_output: str) -> str:
    """A seed's Adam printout with the line torch 2.13 adds, where torch puts it (after ``capturable``)."""
    lines = seed_output.split("\n")
    assert lines[0] == "Adam (" and DECOUPLED_LINE not in lines, seed_output
    index = lines.index("    capturable: False")
    assert lines[index + 1] == "    differentiable: False", seed_output
    return "\n".join(lines[:index + 1] + [DECOUPLED_LINE] + lines[index + 1:])


def expected_output(name: str, index: int) -> str:
    expected = CELLS[name][index][1]
    return as_torch_2_13_prints(expected) if (name, index) in ADAM_REPR_CELLS else expected


def _cases():
    for name, cells in CELLS.items():
        for i in range(len(cells)):
            yield pytest.param(name, i, id=f"{name}-cell{i:02d}")


@pytest.mark.parametrize("name, index", list(_cases()))
def test_cell(name, index):
    code, _, expected_warning = CELLS[name][index]
    output, caught = notebook_results(name)[index]
    assert output == expected_output(name, index), f"cell {index}:\n{code}"
    if expected_warning is not None:
        assert any(w.startswith(expected_warning) for w in caught), caught
    else:
        assert not caught, caught


def test_every_seed_cell_is_here():
    """As many cells as the notebooks have ``In [..]:`` markers in shared/seeds."""
    assert {name: len(cells) for name, cells in CELLS.items()} == {"000": 44, "001": 56, "002": 11, "003": 9}


def test_the_adam_adaptation_covers_every_optimizer_printout():
    """Only the Adam printouts are adapted; every other optimizer printout (SGD's) is the seed's text as is."""
    adam = {(name, i) for name, cells in CELLS.items() for i, (_, out, _) in enumerate(cells) if out.startswith("Adam (")}
    assert adam == ADAM_REPR_CELLS
    assert any(out.startswith("SGD (") for cells in CELLS.values() for _, out, _ in cells)


def test_the_adam_adaptation_is_what_torch_2_13_prints():
    torch = pytest.importorskip("torch")
    assert torch.__version__.startswith("2.13")
    for name, index in sorted(ADAM_REPR_CELLS):
        params = [torch.tensor([2.0, 3.0], requires_grad=True), torch.tensor([6.0, 4.0], requires_grad=True)]
        assert repr(torch.optim.Adam(params, lr=0.1)) == expected_output(name, index)


def test_item_is_the_exact_float32_loss():
    """Notebook 001's SGD cell without its dLda prints, then ``L.item()``: float32 arithmetic as torch's."""
    namespace: dict = {}
    for code in ["import autodiff as ad", "from optimizers import SGD", NOTEBOOK_001_SGD_CELL]:
        output, caught = run_cell(code, namespace)
    assert output == "tensor([29.8116, 60.6062])\ntensor([-12.1200,  -8.0800])"
    assert run_cell("L.item()", namespace)[0] == "17.464889526367188"
    assert run_cell("type(L.item())", namespace)[0] == "float"


NOTEBOOK_001_SGD_CELL = """
a = ad.tensor([2., 3.], requires_grad=True)
b = ad.tensor([6., 4.], requires_grad=True)
optimizer = SGD([a, b], lr=0.005)
L = ad.sum((3*a**3 - b**2))
L.backward()
optimizer.step()
optimizer.zero_grad()
L = ad.sum((3*a**3 - b**2))
L.backward()
print(a.grad)
print(b.grad)
"""


def test_control_flow_cell_matches_torch_for_many_draws():
    """``a.grad == d / a`` is exact float32 arithmetic: compare with torch on the same draws of ``a``."""
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    for code, _, _ in CELLS["002"][:9]:
        run_cell(code, namespace)
    f = namespace["f"]
    for seed in range(30):
        ad.manual_seed(seed)
        a = ad.randn(size=(), requires_grad=True)
        d = f(a)
        d.backward()
        ours = (a.grad == d / a).item()
        ta = torch.tensor(a.item(), requires_grad=True)
        td = f(ta)
        td.backward()
        assert ours == (ta.grad == td / ta).item()
        assert d.item() == td.item() and a.grad.item() == ta.grad.item()


SEEDS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "seeds"


def torch_names(code: str) -> str:
    """A cell as the seed notebook wrote it: autodiff's names back to torch's."""
    code = code.replace("import autodiff as ad", "import torch")
    code = code.replace("from optimizers import", "from torch.optim import")
    return re.sub(r"\bad\.", "torch.", code)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed notebooks are not on this machine")
def test_cells_are_the_seed_notebooks():
    """Every cell's code (renamed back) and every non-blank output line occur in the seed file, in order.

    Two differences are the export's, not ours: the seeds drop print('=====')'s lines (read as markdown rules) and
    Colab hid seed 003's error message behind "ignored".
    """
    for path, (name, cells) in zip(sorted(SEEDS.glob("*.txt")), CELLS.items()):
        text = "\n".join(line.rstrip() for line in path.read_text().split("\n"))
        position = 0
        for index, (code, output, _) in enumerate(cells):
            code = "\n".join(line.rstrip() for line in torch_names(code).split("\n"))
            found = text.find(code, position)
            assert found >= 0, (name, index, code)
            position = found + len(code)
            output = output.replace("autodiff.", "torch.").replace(NON_SCALAR, "RuntimeError: ignored")
            for line in output.split("\n"):
                if line.strip() and set(line) != {"="}:
                    found = text.find(line, position)
                    assert found >= 0, (name, index, line)
                    position = found + len(line)
