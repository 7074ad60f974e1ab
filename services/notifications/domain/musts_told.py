"""What a waiting-list email says when the goal's musts are why there is no mentor: one
sentence per must, from the proposal's `unmet_musts` alone (matching decided them)."""

from __future__ import annotations

from shared.contracts.matches import MatchProposedPayload
from shared.contracts.musts import requirement


def musts_sentences(proposal: MatchProposedPayload) -> list[str]:
    """Empty unless matching told unmet musts; then first that no mentor meets them all."""
    if not proposal.unmet_musts:
        return []
    said = ["Right now no mentor with room and your goal's skills meets all your musts together."]
    for unmet in proposal.unmet_musts:
        phrase = requirement(unmet.kind, unmet.value)
        if unmet.met_by_nobody:
            said.append(f"None of them {phrase}.")
        if unmet.alternatives:
            names = ", ".join(a.display_name for a in unmet.alternatives)
            said.append(
                f"Without the must that your mentor {phrase} (your other musts kept), "
                f"we could suggest: {names}."
            )
    return said
