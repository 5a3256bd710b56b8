"""The topics of leadflow, named once."""

TOUCHES = "leadflow.touches"
LEADS = "leadflow.leads"
NURTURE_ACTIONS = "leadflow.nurture.actions"
HANDOFFS = "leadflow.handoffs"
FEEDBACK = "leadflow.feedback"
DEFINITIONS = "leadflow.definitions"

ALL = (TOUCHES, LEADS, NURTURE_ACTIONS, HANDOFFS, FEEDBACK, DEFINITIONS)


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic beside `topic`."""
    return f"{topic}.dlq"
