"""The base of every model that validates what comes from outside (bodies, events, scripts).

    class ClaimIn(FromOutside): ...

Two rules hold for every field of such a model, so no model can forget them:
- the text rule (`livecompanion/text.py`): no control characters in any string, keys included;
- true and false are not numbers: pydantic's lax mode reads `false` as 0 for an int or a float field,
  so `{"value": false}` was accepted where a number is meant (issue 13 item 9). No input model has a
  boolean field; one that gets one would name it in `BOOLEAN_FIELDS`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, field_validator, model_validator
from pydantic_core import PydanticCustomError

from livecompanion.text import refuse_controls

__all__ = ["FromOutside"]


class FromOutside(BaseModel):
    BOOLEAN_FIELDS: ClassVar[frozenset[str]] = frozenset()

    # A model validator, not a "*" field validator: pydantic allows no before-validator on the
    # discriminator fields (`type`, `action`).
    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        if isinstance(data, dict):
            fields = cls.model_fields
            for key, value in data.items():
                # Unknown keys are left to the model (events ignore them, bodies refuse them).
                if (isinstance(value, bool) and key not in cls.BOOLEAN_FIELDS
                        and (key in fields or any(f.alias == key for f in fields.values()))):
                    raise PydanticCustomError("boolean_refused", "{field}: true or false is not a value here",
                                              {"field": str(key)})
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _text_rule(cls, value: Any) -> Any:
        try:
            return refuse_controls(value)
        except ValueError as exc:
            raise PydanticCustomError("control_character", str(exc)) from None
