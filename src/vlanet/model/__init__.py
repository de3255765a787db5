"""VLANet, Section 3 of Ma et al. (ECCV 2020), one module per concept.

=========  =====================================  ===============================
Equation   What                                   Where (the code that runs)
=========  =====================================  ===============================
(1)        query Q = GRU states, L2-normalised    text.QueryEncoder.forward (unit.unit_rows)
(2)        proposal features p_lk                 proposals.ProposalEncoder / pool_windows
(3)        score_lk = p_lk . w_M                  surrogate.selection_scores
(4)-(6)    surrogates s_k, V'                     surrogate.select_surrogates
(7)        VLA function E(x, Y)                   attention.VLA.forward
(8)        Dense Attention A(X, Y)                attention.DenseAttention.forward
(9)-(10)   V2V / Q2Q self-attention               cca.CascadedCrossModalAttention.forward
(11)-(12)  Q2V / V2Q cascade                      cca.CascadedCrossModalAttention.forward
(13)       v_comp and c = E(v_comp, Q)            cca.CascadedCrossModalAttention.forward
(14)       contrastive loss                       loss.contrastive_loss
=========  =====================================  ===============================

``cca.CascadedCrossModalAttention.forward`` composes (7)-(13) as the equations read
(``model.cca_impl: literal``); ``fused.fused_cca``, the default, computes the same numbers from
one batched product per pair (its docstring explains why they are equal; a float64 test checks
scores, weights and gradients for every switch).

encoders.Encoders holds (1) and (2) for both models; vlanet.VLANet assembles (3)-(13), and the
switches that train Eq. (3)'s selection are surrogate.straight_through (model.selection) and
the selection term of train/step.py (train.selection_weight).  The TGA baseline (Mithun et al.,
2019) reuses (1), (2) and (14): tga.TGA.

Beyond the paper, two later weakly-supervised methods run on the same data, training loop,
prediction path and evaluator: CNM (Zheng et al., AAAI 2022, cnm.CNM) and CPL (Zheng et al.,
CVPR 2022, cpl.CPL).  They share reconstruction.Reconstructor (Gaussian proposals scored by
how well the video under them reconstructs the sentence), gaussian.py and transformer.py; each
module opens with its own step table.
"""

from vlanet.model.cnm import CNM
from vlanet.model.cpl import CPL
from vlanet.model.tga import TGA
from vlanet.model.vlanet import VLANet

__all__ = ["VLANet", "TGA", "CNM", "CPL"]
