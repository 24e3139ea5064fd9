"""Per-hand evidence measured from pixels, independent of MediaPipe's fixed 21 landmarks."""
