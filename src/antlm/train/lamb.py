"""LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning", Algorithm 2), with the
LTG-BERT reference's rule for parameters without weight decay.

Hand-written because the packaged ``torch_optimizer.Lamb`` (0.3.0) departs from the paper in
ways that change training: bias correction of the Adam moments is off by default (``debias``),
the weight norm in the trust ratio is clamped at 10 (``clamp_value``), and the bias correction,
when on, is folded into the step size the Adam way rather than applied to m and v before the
trust ratio is taken. Per parameter tensor w, at step t:

    m = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2
    m_hat = m / (1 - b1^t)         v_hat = v / (1 - b2^t)
    r = m_hat / (sqrt(v_hat) + eps) + weight_decay * w
    ratio = ||w|| / ||r||  (1 when either norm is 0)   if weight_decay > 0, else 1
    w = w - lr * ratio * r

The trust ratio applies only to parameter groups with weight decay, as in the LTG-BERT
reference (ltgoslo/ltg-bert, ``babylm/train/lamb.py``): embeddings, norms and biases, which the
trainer puts in the group without decay, take plain bias-corrected Adam steps. Scaling those by
||w|| / ||r|| would move them far less per step: early in training r has entries of about 1,
so a small tensor such as a bias near zero would step by a few percent of its own size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class Lamb(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.98),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        if lr <= 0.0:
            raise ValueError(f"Lamb: lr must be > 0, got {lr}")
        if eps < 0.0:
            raise ValueError(f"Lamb: eps must be >= 0, got {eps}")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"Lamb: betas must lie in [0, 1), got {betas}")
        if weight_decay < 0.0:
            raise ValueError(f"Lamb: weight_decay must be >= 0, got {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                if grad.is_sparse:
                    raise RuntimeError("Lamb does not support sparse gradients")
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                state["step"] += 1
                step = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1.0 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)

                m_hat = exp_avg / (1.0 - beta1**step)
                v_hat = exp_avg_sq / (1.0 - beta2**step)
                update = m_hat.div_(v_hat.sqrt_().add_(group["eps"]))
                if not group["weight_decay"]:  # the reference's rule: a plain Adam step
                    param.add_(update, alpha=-group["lr"])
                    continue
                update.add_(param, alpha=group["weight_decay"])

                # Norms in at least fp32 for low-precision parameters; torch.where, not an
                # `if`, so that no step waits on the device.
                norm_dtype = torch.promote_types(param.dtype, torch.float32)
                w_norm = torch.linalg.vector_norm(param, dtype=norm_dtype)
                r_norm = torch.linalg.vector_norm(update, dtype=norm_dtype)
                ratio = torch.where(
                    (w_norm > 0) & (r_norm > 0), w_norm / r_norm, torch.ones_like(w_norm)
                )
                param.add_(update * (-group["lr"] * ratio).to(update.dtype))
        return loss
