"""LAMB against the paper's update rule (worked out with numpy) and the LTG-BERT reference's rule
for parameters without weight decay (a plain Adam step, checked against torch's Adam)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from antlm.train.lamb import Lamb

W0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
GRADS = [
    np.array([[0.1, -0.2, 0.3], [0.05, 0.0, -0.4]]),
    np.array([[-0.3, 0.1, 0.2], [0.5, -0.25, 0.1]]),
]


def paper_lamb(w, grads, lr, betas, eps, weight_decay):
    """You et al. 2020, Algorithm 2, one tensor, written out step by step; without weight decay
    the trust ratio is 1, as in the LTG-BERT reference (ltgoslo/ltg-bert babylm/train/lamb.py)."""
    b1, b2 = betas
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    history = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        r = m_hat / (np.sqrt(v_hat) + eps) + weight_decay * w
        w_norm, r_norm = np.linalg.norm(w), np.linalg.norm(r)
        ratio = w_norm / r_norm if weight_decay > 0 and w_norm > 0 and r_norm > 0 else 1.0
        w = w - lr * ratio * r
        history.append(w)
    return history


def run_lamb(w, grads, **kwargs):
    param = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))
    opt = Lamb([param], **kwargs)
    history = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        history.append(param.detach().numpy().copy())
    return history


def test_first_step_by_hand():
    # t=1: m_hat = g, v_hat = g^2, so r = g / (|g| + eps) + 0.5 w ~ [1, 1] + [0.3, -0.4];
    # ||w|| = ||[0.6, -0.8]|| = 1, ||r|| = ||[1.3, 0.6]|| = 1.431782: w - 0.1 r / 1.431782.
    (w1,) = run_lamb(np.array([0.6, -0.8]), [np.array([0.3, 0.4])], lr=0.1, eps=1e-9,
                     weight_decay=0.5)
    np.testing.assert_allclose(w1, [0.6 - 0.0907960, -0.8 - 0.0419058], atol=1e-6)


def test_without_weight_decay_the_step_is_adams():
    """The reference's rule: no trust ratio for parameters without decay (embeddings, norms,
    biases), so LAMB steps exactly as bias-corrected Adam does."""
    kwargs = {"lr": 0.05, "betas": (0.9, 0.98), "eps": 1e-6}
    got = run_lamb(W0, GRADS, weight_decay=0.0, **kwargs)
    param = torch.nn.Parameter(torch.tensor(W0))
    adam = torch.optim.Adam([param], **kwargs)
    for g, lamb_w in zip(GRADS, got):
        param.grad = torch.tensor(g)
        adam.step()
        np.testing.assert_allclose(lamb_w, param.detach().numpy(), rtol=1e-10, atol=1e-12)
    # ... which the paper's rule would not be: there every tensor takes the trust ratio.
    w_norm = np.linalg.norm(W0)
    (paper_first,) = run_lamb(W0, GRADS[:1], weight_decay=1e-12, **kwargs)
    assert np.abs(paper_first - got[0]).max() > 1e-3 * w_norm


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_two_steps_match_the_paper(weight_decay):
    kwargs = {"lr": 0.05, "betas": (0.9, 0.98), "eps": 1e-6, "weight_decay": weight_decay}
    expected = paper_lamb(W0, GRADS, **kwargs)
    got = run_lamb(W0, GRADS, **kwargs)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_bias_correction_matters_with_weight_decay():
    """Without bias correction (torch_optimizer's default) step 1 differs once decay is on."""
    kwargs = {"lr": 0.05, "betas": (0.9, 0.98), "eps": 1e-6, "weight_decay": 0.1}
    (got,) = run_lamb(W0, GRADS[:1], **kwargs)
    g = GRADS[0]
    uncorrected = (0.1 * g) / (np.sqrt(0.02 * g * g) + 1e-6) + 0.1 * W0
    w_undebiased = W0 - 0.05 * np.linalg.norm(W0) / np.linalg.norm(uncorrected) * uncorrected
    assert np.abs(got - w_undebiased).max() > 1e-4


def test_zero_weights_take_an_unscaled_step():
    # ||w|| = 0 -> ratio 1: w = -lr * r = -lr * sign(g) at t=1.
    (w1,) = run_lamb(np.zeros(3), [np.array([2.0, -0.5, 1.0])], lr=0.01, eps=1e-12,
                     weight_decay=0.1)
    np.testing.assert_allclose(w1, [-0.01, 0.01, -0.01], atol=1e-12)


def test_param_groups_take_their_own_weight_decay():
    decayed = torch.nn.Parameter(torch.tensor(W0))
    plain = torch.nn.Parameter(torch.tensor(W0))
    opt = Lamb(
        [{"params": [decayed], "weight_decay": 0.1}, {"params": [plain], "weight_decay": 0.0}],
        lr=0.05,
    )
    for g in GRADS:
        decayed.grad = torch.tensor(g)
        plain.grad = torch.tensor(g)
        opt.step()
    kwargs = {"lr": 0.05, "betas": (0.9, 0.98), "eps": 1e-6}
    np.testing.assert_allclose(decayed.detach().numpy(),
                               paper_lamb(W0, GRADS, weight_decay=0.1, **kwargs)[-1], rtol=1e-10)
    np.testing.assert_allclose(plain.detach().numpy(),
                               paper_lamb(W0, GRADS, weight_decay=0.0, **kwargs)[-1], rtol=1e-10)


def test_state_dict_round_trip_resumes_exactly():
    def make():
        param = torch.nn.Parameter(torch.tensor(W0))
        return param, Lamb([param], lr=0.05, weight_decay=0.1)

    param, opt = make()
    param.grad = torch.tensor(GRADS[0])
    opt.step()
    resumed_param, resumed = make()
    with torch.no_grad():
        resumed_param.copy_(param)
    resumed.load_state_dict(copy.deepcopy(opt.state_dict()))  # as if through torch.save
    for p, o in ((param, opt), (resumed_param, resumed)):
        p.grad = torch.tensor(GRADS[1])
        o.step()
    torch.testing.assert_close(resumed_param, param)
