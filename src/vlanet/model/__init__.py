"""VLANet, Section 3 of Ma et al. (ECCV 2020), one module per concept.

=========  =====================================  ===============================
Equation   What                                   Where
=========  =====================================  ===============================
(1)        query Q = GRU states, L2-normalised    text.QueryEncoder.forward (unit.unit_rows)
(2)        proposal features p_lk                 proposals.ProposalEncoder / pool_windows
(3)-(6)    Surrogate Proposal Selection           surrogate.select_surrogates / selection_scores
(7)        VLA function E(x, Y)                   attention.VLA.forward
(8)        Dense Attention A(X, Y)                attention.DenseAttention.forward
(9)-(10)   V2V / Q2Q self-attention               cca.CascadedCrossModalAttention.reference_forward
(11)-(12)  Q2V / V2Q cascade                      cca.CascadedCrossModalAttention.reference_forward
(13)       v_comp and c = E(v_comp, Q)            cca.CascadedCrossModalAttention.reference_forward
(14)       contrastive loss                       loss.contrastive_loss
=========  =====================================  ===============================

``reference_forward`` composes (7)-(13) literally; ``CascadedCrossModalAttention.forward``, which
training and inference run, computes the same numbers from one batched product per pair of the
pair's elements (rows gathered from the proposal table) against every projected set they meet
(cca.py explains).

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
