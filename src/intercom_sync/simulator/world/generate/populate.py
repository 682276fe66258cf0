"""Fill a workspace's tables from its spec: the organisation first, then the people, their
conversations, tickets and activity logs, each of which links to what came before."""

from __future__ import annotations

from intercom_sync.simulator.world.generate import contacts, conversations, organisation, tickets
from intercom_sync.simulator.world.generate.activity_time import ActivityCalendar
from intercom_sync.simulator.world.generate.context import GenContext
from intercom_sync.simulator.world.tables import WorldTables


def populate(world: WorldTables) -> None:
    """Generate every record of `world.spec` into `world` (called by `World.build`)."""
    spec = world.spec
    if (spec.conversations or spec.tickets) and (spec.contacts < 1 or spec.admins < 1):
        raise ValueError("conversations and tickets need at least one contact and one admin")
    context = GenContext(world, ActivityCalendar(spec))
    organisation.make_admins(context)
    organisation.make_teams(context)
    organisation.make_tags(context)
    organisation.make_segments(context)
    organisation.make_data_attributes(context)
    organisation.make_companies(context)
    contacts.make_contacts(context)
    conversations.make_conversations(context)
    tickets.make_tickets(context)
    tickets.make_activity_logs(context)
