"""The adversarial corpus generator's library (see ../README.md)."""
