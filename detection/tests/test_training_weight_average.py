"""The moving average of the weights follows the trained weights by its decay, BatchNorm statistics too."""

import pytest

torch = pytest.importorskip("torch")

from detection.training.train import _weight_average  # noqa: E402


def test_weight_average_moves_by_its_decay_and_averages_batchnorm_statistics():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
    averaged = _weight_average(model, 0.75)
    with torch.no_grad():
        model[0].weight.fill_(5.0)
        model[1].running_mean.fill_(4.0)
    averaged.update_parameters(model)
    # The first update copies; EMA starts from the weights it was given.
    assert torch.allclose(averaged.module[0].weight, torch.full((2, 2), 5.0))
    with torch.no_grad():
        model[0].weight.fill_(9.0)
        model[1].running_mean.fill_(8.0)
    averaged.update_parameters(model)
    assert torch.allclose(averaged.module[0].weight, torch.full((2, 2), 0.75 * 5.0 + 0.25 * 9.0))
    assert torch.allclose(averaged.module[1].running_mean, torch.full((2,), 0.75 * 4.0 + 0.25 * 8.0))


def test_weight_average_off_and_bad_decays():
    model = torch.nn.Linear(2, 2)
    assert _weight_average(model, 0.0) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        _weight_average(model, 1.5)
