"""Docstring text that several functions share, written once.

:func:`fill` replaces ``%(name)s`` in a docstring by the fragment of that
name. A fragment of several lines must stand alone on its line, and takes
that line's indentation. The references are cited by key, ``.. [1] %(bhh)s``,
so each is spelled in one place.
"""

import inspect
import re

REFERENCES = {
    "bhh": (
        'P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing '
        'the log-sum-exp and softmax functions", IMA Journal of Numerical '
        "Analysis 41 (2021), 2311-2330. https://doi.org/10.1093/imanum/draa038"
    ),
    "goodfellow": (
        "I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT "
        "Press, 2016"
    ),
    "bishop": (
        "C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, "
        "2006"
    ),
    "cover_thomas": (
        "T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd "
        "ed., "
        "Wiley, 2006"
    ),
    "shannon": (
        'C. E. Shannon, "A mathematical theory of communication", Bell System '
        "Technical Journal 27 (1948), 379-423. "
        "https://doi.org/10.1002/j.1538-7305.1948.tb01338.x"
    ),
    "kullback": (
        'S. Kullback and R. A. Leibler, "On information and sufficiency", '
        "Annals of Mathematical Statistics 22 (1951), 79-86. "
        "https://doi.org/10.1214/aoms/1177729694"
    ),
    "cox": (
        'D. R. Cox, "The regression analysis of binary sequences", Journal of '
        "the Royal Statistical Society B 20 (1958), 215-242. "
        "https://doi.org/10.1111/j.2517-6161.1958.tb00292.x"
    ),
    "lin": (
        'T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal loss '
        'for dense object detection", IEEE International Conference on '
        "Computer Vision (ICCV), 2017, 2980-2988. https://arxiv.org/abs/1708.02002"
    ),
    "leng": (
        "Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng and D. "
        "Anguelov, "
        '"PolyLoss: a polynomial expansion perspective of classification loss '
        'functions", International Conference on Learning Representations '
        "(ICLR), 2022. https://arxiv.org/abs/2204.12511"
    ),
    "cui": (
        'Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-balanced '
        'loss based on effective number of samples", IEEE/CVF Conference on '
        "Computer Vision and Pattern Recognition (CVPR), 2019, 9268-9277. "
        "https://arxiv.org/abs/1901.05555"
    ),
    "hinton": (
        'G. Hinton, O. Vinyals and J. Dean, "Distilling the knowledge in a '
        'neural network", NIPS Deep Learning and Representation Learning '
        "Workshop, 2014. https://arxiv.org/abs/1503.02531"
    ),
    "graves": (
        'A. Graves, S. Fernández, F. Gomez and J. Schmidhuber, "Connectionist '
        "temporal classification: labelling unsegmented sequence data with "
        'recurrent neural networks", International Conference on Machine '
        "Learning (ICML), 2006, 369-376. https://doi.org/10.1145/1143844.1143891"
    ),
    "graves_book": (
        "A. Graves, *Supervised Sequence Labelling with Recurrent Neural "
        "Networks*, Springer, 2012, chapter 7. https://doi.org/10.1007/978-3-642-24797-2"
    ),
    "milakov": (
        'M. Milakov and N. Gimelshein, "Online normalizer calculation for '
        'softmax", 2018. https://arxiv.org/abs/1805.02867'
    ),
    "szegedy": (
        'C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna, "Rethinking '
        'the Inception architecture for computer vision", IEEE Conference on '
        "Computer Vision and Pattern Recognition (CVPR), 2016, 2818-2826, "
        "section 7. https://arxiv.org/abs/1512.00567"
    ),
    "fairseq": (
        'M. Ott, S. Edunov, A. Baevski, A. Fan, S. Gross, N. Ng, D. Grangier and '
        'M. Auli, "fairseq: a fast, extensible toolkit for sequence modeling", '
        "NAACL-HLT 2019: Demonstrations, 48-53. https://arxiv.org/abs/1904.01038"
    ),
    "palm": (
        "A. Chowdhery et al., \"PaLM: scaling language modeling with pathways\", "
        "Journal of Machine Learning Research 24 (2023), 240:1-113, section 5. "
        "https://arxiv.org/abs/2204.02311"
    ),
    "liger": (
        'P.-L. Hsu, Y. Dai, V. Kothapalli, Q. Song, S. Tang, S. Zhu, S. Shimizu, '
        'S. Sahni, H. Ning and Y. Chen, "Liger Kernel: efficient Triton kernels '
        'for LLM training", 2024. https://arxiv.org/abs/2410.10989'
    ),
    "hafner": (
        'D. Hafner, J. Pasukonis, J. Ba and T. Lillicrap, "Mastering diverse '
        'domains through world models" (DreamerV3), 2023. '
        "https://arxiv.org/abs/2301.04104"
    ),
    "schrittwieser": (
        'J. Schrittwieser, I. Antonoglou, T. Hubert et al., "Mastering Atari, '
        'Go, chess and shogi by planning with a learned model" (MuZero), Nature '
        "588 (2020), 604-609. https://doi.org/10.1038/s41586-020-03051-4"
    ),
    "imani": (
        'E. Imani and M. White, "Improving regression performance with '
        'distributional losses", International Conference on Machine Learning '
        "(ICML), 2018, 2157-2166. https://arxiv.org/abs/1806.04613"
    ),
    "farebrother": (
        'J. Farebrother, J. Orbay, Q. Vuong et al., "Stop regressing: training '
        'value functions via classification for scalable deep RL", '
        "International Conference on Machine Learning (ICML), 2024. "
        "https://arxiv.org/abs/2403.03950"
    ),
    "jelinek": (
        'F. Jelinek, R. L. Mercer, L. R. Bahl and J. K. Baker, "Perplexity - a '
        'measure of the difficulty of speech recognition tasks", Journal of the '
        "Acoustical Society of America 62 (1977), S63. https://doi.org/10.1121/1.2016299"
    ),
    "shannon1951": (
        'C. E. Shannon, "Prediction and entropy of printed English", Bell System '
        "Technical Journal 30 (1951), 50-64. "
        "https://doi.org/10.1002/j.1538-7305.1951.tb01366.x"
    ),
    "machler": (
        'M. Mächler, "Accurately computing log(1 - exp(-\\|a\\|)), assessed '
        'by '
        'the Rmpfr package", 2012. '
        "https://cran.r-project.org/package=Rmpfr/vignettes/log1mexp-note.pdf"
    ),
}

PARAMETERS = {
    "logits": """\
logits : array_like, shape (..., K)
    Unnormalised log-probabilities: finite or -inf (probability zero),
    with at least one entry above -inf along `axis`.""",
    "axis": """\
axis : int, optional
    The class axis. Default -1.""",
    "reduction": """\
reduction : {"mean", "sum", "none"}, optional
    ``"none"`` returns one loss per example, shape (...); ``"sum"`` their
    sum; ``"mean"`` (default) their sum divided by their count.""",
    "reduction_elements": """\
reduction : {"mean", "sum", "none"}, optional
    ``"none"`` returns one loss per element; ``"sum"`` their sum;
    ``"mean"`` (default) their sum divided by the number of elements.""",
    "weight_elements": """\
weight : array_like, optional
    A rescaling weight for each element, broadcast to the shape of the
    prediction: finite and non-negative. A zero weight removes an
    element, even one whose loss is infinite.""",
    "distribution_p": """\
p : array_like, shape (..., K)
    Probabilities along `axis`: each in [0, 1], summing to 1 within the
    square root of machine epsilon (about 1.5e-8 in float64, 3.5e-4 in
    float32). Integers and lists become float64.""",
    "base": """\
base : float, optional
    Logarithm base of the unit: None for nats, 2 for bits.""",
    "loss_returns": """\
loss : ndarray
    A scalar for ``"mean"`` and ``"sum"``, shape (...) for ``"none"``,
    in the dtype of the prediction.""",
    "values_x": """\
x : array_like
    Real values (logits) of any shape; -inf and +inf are allowed, NaN is
    not.""",
    "values_raises": """\
TypeError
    If `x` is not real-valued float32/float64 data.
ValueError
    If `x` contains NaN.""",
    "elements_returns": """\
loss : ndarray
    A scalar for ``"mean"`` and ``"sum"``, the shape of the prediction for
    ``"none"``, in its dtype.""",
    "float_type_error": """\
TypeError
    If an argument is not real-valued float32/float64 data.""",
    "targets": """\
targets : array_like, shape (...) or (..., K)
    Either integer class labels in [0, K), with the shape of `logits`
    without the class axis, or probability vectors with the shape of
    `logits` (non-negative, each summing to 1 along `axis` within the
    square root of machine epsilon), used in the dtype of `logits`.""",
    "binary_targets": """\
targets : array_like
    Target probabilities in [0, 1] with the shape of `logits`: 0 or 1
    for hard labels, anything between for soft ones.""",
    "binary_logits": """\
logits : array_like
    Logits of the positive outcome, any shape; -inf and +inf
    (probabilities 0 and 1) are allowed, NaN is not.""",
    "mean_token_loss": """\
loss : array_like
    Mean cross-entropy per token in nats, such as the token mean of
    :func:`sequence_softmax_cross_entropy`: at least 0, +inf allowed. Any
    shape, one value per model or text.""",
    "mean_token_loss_raises": """\
TypeError
    If `loss` is not real-valued float32/float64 data.
ValueError
    If `loss` contains NaN or a negative value.""",
    "type_error": """\
TypeError
    If an argument is not real-valued float32/float64 data, or labels
    are not integers.""",
    "family_type_error": """\
TypeError
    If an argument is not real-valued float16, bfloat16, float32 or
    float64 data, or labels are not integers.""",
    "exact_shift": """\
Each gap :math:`z_k - a` is kept exactly, as the rounded difference and its
rounding error (TwoSum), and enters the exponential as
:math:`e^{h}(1 + l)`: rounding it instead would cost :math:`|z_k - a|`
units of roundoff after ``exp``, hundreds of ulps for gaps of hundreds.
The sum :math:`s` is formed without rounding error beyond that of
``exp`` on each term (an extraction sum), and each result is formed as a
pair of floats and rounded once.""",
    "narrow": """\
float32, float16 and bfloat16 input is computed in float64 and rounded
once to its own dtype, which the result keeps: within 1 ulp of the exact
value. float64 results rest on NumPy's ``exp`` and ``log1p`` being within
0.8 ulps (measured: 0.70 and at most 0.75; the tests sample them again).""",
    "class_weight": """\
class_weight : array_like, shape (K,), optional
    A weight :math:`w_c` for each class, finite and non-negative, used in
    the dtype of the prediction. The term of class :math:`c` in an
    example's loss is multiplied by :math:`w_c`, and ``"mean"`` divides by
    the total weight of the selected examples' targets. Default None: no
    weighting.""",
    "ignore_index": """\
ignore_index : int, optional
    Leave out the examples whose label is this integer: loss 0 (under
    ``"none"``), gradient 0, not counted by ``"mean"``. Their labels are
    not range-checked, so padding such as -100 is fine. A class in
    [0, K) stays a class of the softmax; only examples with that label are
    left out. Default None.""",
    "label_smoothing": """\
label_smoothing : float, optional
    :math:`\\epsilon \\in [0, 1]`: the share of each target moved to the
    other classes, as `smoothing` says. Default 0.""",
    "smoothing": """\
smoothing : {"uniform", "others"}, optional
    How :math:`\\epsilon` is spread. ``"uniform"`` (default; PyTorch,
    Keras, Optax): :math:`\\tilde q = (1 - \\epsilon) t + \\epsilon / K`,
    so the label keeps :math:`1 - \\epsilon + \\epsilon / K`.
    ``"others"`` (fairseq): :math:`\\tilde q = (1 - \\epsilon) t +
    \\epsilon (1 - t)/(K - 1)`, so the label keeps :math:`1 - \\epsilon`
    and each other class gets :math:`\\epsilon / (K - 1)`.""",
    "z_loss": """\
z_loss : float, optional
    :math:`\\lambda \\ge 0`, finite: adds :math:`\\lambda
    \\operatorname{logsumexp}(z)^2` to each selected example's loss,
    unweighted by `class_weight`. Default 0.""",
    "where": """\
where : array_like of bool, shape (...), optional
    Which examples to keep (True), with the batch shape: the others have
    loss 0 (under ``"none"``) and gradient 0, are not counted by
    ``"mean"``, and their targets are not read. Their predictions are
    checked as everywhere else. Default None: every example.""",
    "where_elements": """\
where : array_like of bool, optional
    Which elements to keep (True), with the shape of the prediction: the
    others have loss 0 (under ``"none"``) and gradient 0, are not counted
    by ``"mean"``, and their targets are not read. Default None: every
    element.""",
    "where_examples": """\
where : array_like of bool, shape (...), optional
    Which examples to keep (True), with the batch shape: the others have
    loss 0 (under ``"none"``) and gradient 0, are not counted by
    ``"mean"``, and their targets are not read. Default None: every
    example.""",
    "blocks": """\
The rows are processed in blocks of about 2**18 entries on up to two
threads, so that no temporary has the size of the input, and a row too
long for a block in chunks of classes merged by the online rule of
Milakov and Gimelshein. Results do not depend on how rows are grouped into
blocks or threads; rows read in chunks keep the same bounds.""",
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_ALONE = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.MULTILINE)


def _of(loss):
    """The fragments of a gradient's docstring that follow from its loss."""
    name = f":func:`xentref.{loss.__name__}`"
    arguments = ", ".join(inspect.signature(loss).parameters)
    parameters = f"{arguments}\n    As for {name}, with the same checks."
    raises = f"TypeError, ValueError\n    As {name}."
    return {
        "loss": name,
        "same_parameters": parameters,
        "same_raises": raises,
        "gradient_parameters": f"Parameters\n----------\n{parameters}",
        "gradient_raises": f"Raises\n------\n{raises}",
        "together_returns": (
            f"loss\n    What {name} returns for these arguments.\n"
            f"grad\n    What :func:`xentref.grad.{loss.__name__}` returns for them."
        ),
    }


def fill(of=None):
    """Decorator: fill a docstring's ``%(name)s`` placeholders.

    With ``of=loss``, the docstring of a gradient can also use ``%(loss)s``,
    and ``%(gradient_parameters)s`` and ``%(gradient_raises)s`` for its
    Parameters and Raises sections, which follow from the loss.
    """
    fragments = {**REFERENCES, **PARAMETERS, **(_of(of) if of else {})}

    def indented(match):
        indent, key = match.groups()
        return "\n".join(
            indent + line if line else line
            for line in fragments[key].split("\n")
        )

    def decorate(function):
        doc = _ALONE.sub(indented, function.__doc__)
        function.__doc__ = _PLACEHOLDER.sub(
            lambda m: fragments[m.group(1)], doc
        )
        return function

    return decorate
