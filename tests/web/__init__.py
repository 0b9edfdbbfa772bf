"""Tests of the server-rendered web pages."""
