"""Helpers for the targets and check-in tests: a child with a Polish mother and a Spanish father,
targets added through the child's page, and the share preview's approval codes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from sqlmodel import Session, select

from storage.models import Child, Guardian, GuardianChild, School
from tests.support.factories import make_guardian

MOTHER, FATHER = "+447700900741", "+447700900742"
TARGETS = [
    ("Kuba will ask an adult for help using his now/next card", "Use the now/next card at home too", "02/11/2026"),
    ("Kuba will read a short book with an adult for 10 minutes", "", "02/11/2026"),
    ("Kuba will put on his coat by himself", "Let him try the zip first", "09/11/2026"),
]


@dataclass
class Family:
    """A child with two carers in two languages."""

    child: Child
    mother: Guardian
    father: Guardian


def make_family(db: Session, school: School) -> Family:
    """Kuba Kowalski, his Polish-speaking mother Anna and his Spanish-speaking father Pablo."""
    mother = make_guardian(db, school, MOTHER, name="Anna Kowalska", language="pl", child="Kuba Kowalski")
    father = make_guardian(db, school, FATHER, name="Pablo Ruiz", language="es", child=None)
    child = db.exec(select(Child).where(Child.name == "Kuba Kowalski", Child.school_id == school.id)).one()
    db.add(GuardianChild(guardian_id=father.id, child_id=child.id, relationship="father"))
    db.commit()
    return Family(child, mother, father)


def add_targets(client, child_id: int, targets=TARGETS) -> None:
    """Add targets through the child's page, as a SENDCo would."""
    for text, help_line, starts in targets:
        response = client.post(f"/children/{child_id}/targets",
                               data={"text": text, "help_at_home": help_line, "starts_on": starts})
        assert response.status_code == 302, response.get_data(as_text=True)


def approval_for(html: str, child_id: int, guardian_id: int) -> str:
    """The approval code on the share preview's form for one carer."""
    form = re.search(rf'action="/children/{child_id}/share/{guardian_id}"[^>]*>(.*?)</form>', html, re.S)
    assert form, "no share form for this carer"
    return re.search(r'name="approved" value="([0-9a-f]+)"', form[1])[1]


def previewed_text(html: str, guardian_id: int) -> str:
    """The exact text the preview says the carer will receive."""
    section = re.search(rf'id="carer{guardian_id}"(.*?)</section>\s*<section class="translation"', html, re.S)
    return unescape(re.search(r'<pre class="text share-text"[^>]*>(.*?)</pre>', section[1], re.S)[1])
