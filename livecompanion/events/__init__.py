"""Events of the contract, section 2: what happens in the room, as platforms and shops report it."""

from livecompanion.events.models import EVENT_TYPES, Event, OrderStatus, parse_event
from livecompanion.events.batch import EventError

__all__ = ["EVENT_TYPES", "Event", "OrderStatus", "parse_event", "EventError"]
