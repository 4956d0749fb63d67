"""The scripting sandbox: restricted compilation, run-time guards, and the script engine of a command."""
