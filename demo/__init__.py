"""The main job: deploy the real stack to the local emulator, drive payments through it."""
