"""Exports of a plan for the tools editors finish in: OpenTimelineIO and the anime timesheet."""
