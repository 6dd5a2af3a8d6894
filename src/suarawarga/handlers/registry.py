"""The one list of flows and commands the bot knows; the composition root builds the conversation engine from it."""

from __future__ import annotations

from suarawarga.bot.conversation import Command, ConversationEngine, Flow
from suarawarga.handlers import (
    answer,
    common,
    complaint,
    data_rights,
    duplicates,
    lookup,
    rating,
    signin,
    staff,
    staff_admin,
    staff_joining,
    staff_views,
    survey,
)
from suarawarga.handlers.common import Cmd

FLOWS: tuple[Flow, ...] = (
    complaint.FLOW,
    staff.STAFF_FLOW,
    answer.FLOW,
    survey.FLOW,
    data_rights.ERASE_FLOW,
)

COMMANDS: dict[str, Command] = {
    Cmd.START: common.start,
    Cmd.MENU: common.menu,
    Cmd.CANCEL: common.cancel,
    Cmd.HELP: staff_views.help_command,
    Cmd.STATUS: lookup.status_command,
    Cmd.COMPLAINT: common.complaint,
    Cmd.SURVEY: common.survey,
    Cmd.LANGUAGE: common.language,
    Cmd.RESUME: common.resume,
    Cmd.JOIN: staff_joining.join_command,
    Cmd.LINK: staff_joining.link_command,
    Cmd.QUEUE: staff_views.queue_command,
    Cmd.STAFF: staff.staff_action,
    Cmd.ANSWER: answer.answer_command,
    Cmd.RATE: rating.rate,
    Cmd.MY_DATA: data_rights.my_data,
    Cmd.ERASE: data_rights.erase_command,
    Cmd.ACT: staff_views.act_command,
    Cmd.STAFF_LIST: staff_admin.list_command,
    Cmd.STAFF_REMOVE: staff_admin.remove_command,
    Cmd.UNLINK: staff_admin.unlink_command,
    Cmd.MERGE: duplicates.merge_command,
    Cmd.UNMERGE: duplicates.unmerge_command,
    Cmd.SIGN_IN: signin.sign_in_command,
    Cmd.SIGN_OUT: signin.sign_out_command,
}


def build_conversation_engine(extra_flows: tuple[Flow, ...] = ()) -> ConversationEngine:
    """Return the conversation engine with every flow, command and keyword."""
    return ConversationEngine(
        flows={flow.name: flow for flow in FLOWS + extra_flows},
        commands=COMMANDS,
        keywords=common.KEYWORDS,
        idle=common.idle,
        group_commands=common.GROUP_COMMANDS,
        commands_with_arguments=common.COMMANDS_WITH_ARGUMENTS,
        argument_shapes=common.ARGUMENT_SHAPES,
    )
