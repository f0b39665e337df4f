"""The deploy node: lifecycle, deadline tick, safety-gated publishing, diagnostics (rclpy or DDS)."""
