"""The Examples sections of the estimators' docstrings run and print what they show."""

import doctest

import pytest

import disentangle.infogan_cr
import disentangle.metrics._mig
import disentangle.selection._search
import disentangle.vae


@pytest.mark.parametrize("module", [disentangle.infogan_cr, disentangle.vae,
                                    disentangle.selection._search,
                                    disentangle.metrics._mig],
                         ids=lambda module: module.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
