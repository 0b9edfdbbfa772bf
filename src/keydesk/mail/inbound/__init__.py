"""Inbound mail: the SMTP listener, parsing, routing to tickets, and the admins' email log.

A message is a row first (`InboundEmail`, raw bytes encrypted) committed before the listener
answers 250; a task then parses it, runs the filters and turns it into a ticket or a comment.
See docs/mail.md for the rules as admins and operators read them.
"""
