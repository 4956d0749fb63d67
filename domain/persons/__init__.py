"""Professionals (专业技术人员): their records and the directory of those an actor may see."""
