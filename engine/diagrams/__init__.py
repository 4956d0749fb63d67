"""BPMN diagrams as untrusted text: parsing, deploy-time validation, and each task's settings."""
