"""Regenerate tests/golden/functional.json from torch 2.13 (run from the repository root):

    python tests/golden/make_functional_golden.py

Stores torch.autograd.functional's results for every case of ``functional_cases.py`` (values, shapes and
tuple structure), the derivatives of its create_graph=True results, and the exception type and message of
every call that must fail, so tests/test_functional.py runs the same comparisons without torch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import functional_cases as fc  # noqa: E402


def golden() -> dict:
    import torch
    return {"torch_version": torch.__version__, "results": fc.run_all(torch),
            "errors": fc.run_errors(torch, "torch"), "gradcheck": gradcheck_messages(),
            "signatures": fc.signatures(torch)}


def gradcheck_messages() -> dict:
    """torch.autograd.gradcheck's failure messages and warnings for deliberately wrong derivatives of x**2."""
    import warnings

    import torch

    class WrongBackward(torch.autograd.Function):   # d(x^2)/dx claimed to be 3x
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x

    class WrongForward(torch.autograd.Function):    # right backward, forward tangent 3x t
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * t * x

    def message(call):
        try:
            call()
        except Exception as e:  # noqa: BLE001
            return [type(e).__name__, str(e).replace("torch.", "autodiff.")]
        return None

    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        float32_result = torch.autograd.gradcheck(torch.sin, (x.float().detach().requires_grad_(),),
                                                  raise_exception=False)
    return {
        "wrong_backward": message(lambda: torch.autograd.gradcheck(WrongBackward.apply, (x,))),
        "wrong_backward_second_pair": message(
            lambda: torch.autograd.gradcheck(lambda a, b: (a * 2, WrongBackward.apply(b)), (x, y))),
        "wrong_forward": message(lambda: torch.autograd.gradcheck(WrongForward.apply, (x,), check_forward_ad=True)),
        "no_input_requires_grad": message(lambda: torch.autograd.gradcheck(torch.sin, (x.detach(),))),
        "neither_mode": message(lambda: torch.autograd.gradcheck(torch.sin, (x,), check_backward_ad=False)),
        "float32_result": float32_result,
        "float32_warnings": [str(w.message) for w in caught if "double precision" in str(w.message)],
    }


if __name__ == "__main__":
    (HERE / "functional.json").write_text(json.dumps(golden(), indent=1, sort_keys=True) + "\n")
