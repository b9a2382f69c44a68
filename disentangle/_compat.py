"""Every private name of scikit-learn and joblib that the package relies on, in one place.

scikit-learn's parameter validation (``sklearn.utils._param_validation`` and
``sklearn.base._fit_context``) is how its own estimators validate their
parameters; it is private, so ``pyproject.toml`` caps scikit-learn below the
next minor release, and an import failure here says what to install.
joblib's ``eval_expr`` reads ``pre_dispatch`` as joblib itself reads it; when
it is missing, :func:`eval_expr` below does the same arithmetic.

Nothing else in the package imports a private name of another package.
"""

import ast
import operator

import sklearn

try:
    from sklearn.base import _fit_context
    from sklearn.utils._param_validation import (
        HasMethods,
        Interval,
        InvalidParameterError,
        RealNotInt,
        StrOptions,
        validate_params,
    )
except ImportError as error:  # pragma: no cover - depends on the installed scikit-learn
    raise ImportError(
        f"disentangle uses scikit-learn's parameter validation ({error.name or error}), "
        f"which scikit-learn {sklearn.__version__} does not provide; install a scikit-learn "
        "within the bounds of disentangle's requirements (pip install 'scikit-learn>=1.6,<1.10')."
    ) from error

try:
    from joblib._utils import eval_expr
except ImportError:  # pragma: no cover - depends on the installed joblib
    _OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                  ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
                  ast.Mod: operator.mod, ast.Pow: operator.pow, ast.USub: operator.neg}

    def _evaluate(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            value = node.value
        elif isinstance(node, ast.BinOp):
            value = _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
        elif isinstance(node, ast.UnaryOp):
            value = _OPERATORS[type(node.op)](_evaluate(node.operand))
        else:
            raise TypeError(node)
        if abs(value) > 10**6:
            raise ValueError(f"Numeric literal {value} is too large, max is {10**6}.")
        return value

    def eval_expr(expr):
        """Evaluate an arithmetic expression of numbers as joblib's ``eval_expr`` does.

        Raises
        ------
        ValueError
            Longer than 30 characters, not arithmetic, or a value above 10**6.
        """
        if len(expr) > 30:
            raise ValueError(f"Expression {expr[:30]!r}... is too long. Max length is 30.")
        try:
            return _evaluate(ast.parse(expr, mode="eval").body)
        except (TypeError, SyntaxError, OverflowError, KeyError, ZeroDivisionError) as error:
            raise ValueError(
                f"{expr!r} is not a valid or supported arithmetic expression."
            ) from error


__all__ = ["HasMethods", "Interval", "InvalidParameterError", "RealNotInt", "StrOptions",
           "_fit_context", "eval_expr", "validate_params"]
