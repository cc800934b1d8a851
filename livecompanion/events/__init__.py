"""Events of the contract, section 2: what happens in the room, as platforms and shops report it."""

from livecompanion.events.batch import EventError
from livecompanion.events.limits import OrderStatus
from livecompanion.events.models import EVENT_TYPES, Event, parse_event

__all__ = ["EVENT_TYPES", "Event", "EventError", "OrderStatus", "parse_event"]
