"""Serial number expressions: ``1-10, 15, 20+`` → an explicit list of serials."""

import re
from collections import Counter

from django.core.exceptions import ValidationError

MAX_SERIALS = 10_000

_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_FILL = re.compile(r"^(\d+)\s*\+\s*(\d*)$")


def parse_serials(expression, quantity: int, next_serial: int = 1) -> list[str]:
    """Expand a serial expression into exactly ``quantity`` serials.

    Accepted, comma-separated: single serials (``A12``, ``15``), ranges
    (``1-10``), ``N+K`` (N and the K serials after it), ``N+`` (from N onwards, as
    many as are needed to reach the quantity), ``~`` (the next free number,
    ``next_serial``). Raises ValidationError naming the problem.
    """
    if isinstance(expression, (list, tuple)):
        tokens = [str(t).strip() for t in expression]
    else:
        tokens = [t.strip() for t in str(expression or "").split(",")]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ValidationError({"serials": "Enter serial numbers, e.g. 1-10, 15, 20+."})
    if quantity > MAX_SERIALS:
        raise ValidationError(
            {"serials": f"At most {MAX_SERIALS} serial numbers can be assigned at once."}
        )
    serials: list[str] = []
    fill_from = None
    for token in tokens:
        if match := _RANGE.match(token):
            start, end = int(match.group(1)), int(match.group(2))
            if end < start:
                raise ValidationError({"serials": f"Range '{token}' runs backwards."})
            if end - start >= MAX_SERIALS:
                raise ValidationError(
                    {"serials": f"Range '{token}' is too large (at most {MAX_SERIALS} serials)."}
                )
            serials.extend(str(n) for n in range(start, end + 1))
        elif match := _FILL.match(token):
            start = int(match.group(1))
            if match.group(2):
                if int(match.group(2)) >= MAX_SERIALS:
                    raise ValidationError(
                        {"serials": f"'{token}' is too large (at most {MAX_SERIALS} serials)."}
                    )
                serials.extend(str(n) for n in range(start, start + int(match.group(2)) + 1))
            elif fill_from is not None:
                raise ValidationError({"serials": "Only one open-ended 'N+' term is allowed."})
            else:
                fill_from = (len(serials), start)
        elif token == "~":
            serials.append(str(next_serial))
        elif re.search(r"\s", token):
            raise ValidationError(
                {"serials": f"'{token}' is not a serial number (no spaces inside serials)."}
            )
        else:
            serials.append(token)
        if len(serials) > MAX_SERIALS:
            raise ValidationError(
                {"serials": f"The expression gives more than {MAX_SERIALS} serial numbers."}
            )
    if fill_from is not None:
        position, start = fill_from
        missing = quantity - len(serials)
        if missing <= 0:
            raise ValidationError(
                {
                    "serials": f"'{start}+' adds nothing: the other terms already give {len(serials)} serials."
                }
            )
        serials[position:position] = [str(n) for n in range(start, start + missing)]
    duplicates = sorted(s for s, n in Counter(serials).items() if n > 1)
    if duplicates:
        raise ValidationError(
            {"serials": f"Serials repeated in the expression: {', '.join(duplicates[:10])}."}
        )
    if len(serials) != quantity:
        raise ValidationError(
            {
                "serials": f"The expression gives {len(serials)} serial numbers but the quantity is {quantity}."
            }
        )
    return serials
