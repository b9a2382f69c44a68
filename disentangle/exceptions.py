"""Warnings of the package that a user may want to filter or catch."""


class InconsistentVersionWarning(UserWarning):
    """A model or checkpoint saved by another version of ``disentangle`` is being loaded.

    The counterpart of :class:`sklearn.exceptions.InconsistentVersionWarning`
    (which scikit-learn still gives for its own version). The saved state is
    used as it is: the model may then give other results than under the
    version that saved it. Where the saved state cannot be read by this
    version at all, loading raises a ``ValueError`` that says so instead.
    Turn the warning into an error with
    ``warnings.simplefilter("error", InconsistentVersionWarning)``.

    Parameters
    ----------
    estimator_name : str
        The class of the saved estimator (``"InfoGANCR"``, ``"VAE"``).
    original_version : str or None
        The version of ``disentangle`` that saved it; None when the file
        does not say.
    current_version : str
        The version loading it.
    what : str, default="model"
        What was saved: ``"model"`` (a pickle) or ``"training checkpoint"``.
    """

    def __init__(self, estimator_name, original_version, current_version, what="model"):
        super().__init__(estimator_name, original_version, current_version, what)
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version
        self.what = what

    def __str__(self):
        original = self.original_version or "an unknown version"
        return (
            f"This {self.estimator_name} {self.what} was saved with disentangle {original}; this "
            f"is disentangle {self.current_version}. It is used as it is and may give other "
            f"results than under {original}: to be sure, load it with that version or fit it "
            "again."
        )


class TiedCandidatesWarning(UserWarning):
    """The medoid of a :class:`~disentangle.ModelCentralitySelector` is a coin flip among some.

    Issued once after ``fit`` when other candidates' centralities lie within
    two standard errors of the medoid's lead over them
    (``cv_results_["std_lead"]``: a bootstrap over the votes, see the
    ModelCentrality user guide's "Reading a tie"). The message lists those
    candidates' parameters and centralities with their standard errors and
    what would separate them. ``best_index_`` is still the highest centrality.
    Turn it into an error with
    ``warnings.simplefilter("error", TiedCandidatesWarning)``.
    """
