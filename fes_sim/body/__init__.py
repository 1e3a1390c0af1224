"""Body: swing-foot dynamics, passive ankle moment, muscle response to stimulation, toe clearance."""
