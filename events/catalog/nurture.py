"""Events nurture emits on `leadflow.nurture.actions`: enrollments, the content to deliver, exits."""

from __future__ import annotations

import uuid

from pydantic import Field

from events.catalog.common import Code, ContactIdentity
from events.envelope import EventData
from events.limits import Count, EventTime, Name200, Text64, Text200, Text1000, Url, Version


class NurtureRef(EventData):
    """The enrollment an event is about: which lead in which track."""

    enrollment_id: uuid.UUID = Field(description="The enrollment: one lead in one track, once.")
    lead_id: uuid.UUID = Field(description="The lead (equal to the contact id).")
    contact_id: uuid.UUID = Field(description="The contact.")
    track_id: Name200 = Field(description="The nurture track, e.g. warehouse-automation-awareness.")


class NurtureEnrolled(NurtureRef):
    """A lead entered a nurture track whose entry criteria it met."""

    track_version: Version = Field(description="The version of the track's steps the lead will follow.")
    entry_reason: Code = Field(
        description="Why, e.g. engaged_not_ready, new_raw_lead, recycled_by_sales.",
        examples=["new_raw_lead", "engaged_not_ready", "recycled_by_sales"],
    )
    total_steps: Version = Field(description="The number of steps in the track.")
    handoff_id: uuid.UUID | None = Field(
        default=None, description="The handoff sales rejected, when the lead was recycled into nurture."
    )


class NurtureAction(EventData):
    """What marketing automation should deliver to the contact."""

    channel: Text64 = Field(
        min_length=1, description="How to deliver, e.g. email, retargeting_audience, direct_mail, sms."
    )
    content_id: Name200 = Field(description="The content's id in marketing automation.")
    content_title: Text1000 | None = Field(default=None, description="The content's title, for people reading logs.")
    content_url: Url | None = Field(default=None, description="Where the content lives, if it has a URL.")
    template_id: Text200 | None = Field(default=None, description="The email or message template to use, if any.")
    message: Text1000 | None = Field(default=None, description="A note from the track for marketing automation.")


class NurtureActionRequested(NurtureRef):
    """A track step came due: marketing automation is asked to deliver a piece of content."""

    action_id: uuid.UUID = Field(description="The request; marketing automation delivers each at most once.")
    step: Version = Field(description="The step of the track, from 1.")
    step_id: Text64 | None = Field(default=None, description="The step's id in the track, e.g. roi-guide.")
    track_version: Version | None = Field(default=None, description="The version of the track the lead follows.")
    contact: ContactIdentity = Field(description="Whom to deliver to: email and the ids marketing automation knows.")
    action: NurtureAction = Field(description="What to deliver, and how.")
    not_after: EventTime | None = Field(
        default=None, description="Do not deliver after this time (the content is stale by then)."
    )


class NurtureExited(NurtureRef):
    """A lead left a nurture track."""

    reason: Code = Field(
        description=(
            "Why: qualified, disqualified, unsubscribed, erased, handed_off, converted, exhausted (every step "
            "taken: the lead waits for new content or another track)."
        ),
        examples=["qualified", "disqualified", "unsubscribed", "erased", "handed_off", "converted", "exhausted"],
    )
    last_step: Count = Field(description="The last step delivered; 0 if none was.")
    track_version: Version | None = Field(default=None, description="The version of the track the lead followed.")
