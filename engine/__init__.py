"""The workflow engine: runs BPMN processes on SpiffWorkflow, keeps their state, tasks and timers."""
