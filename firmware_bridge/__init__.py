"""firmware_bridge: the USB serial wire to a microcontroller stimulator."""
