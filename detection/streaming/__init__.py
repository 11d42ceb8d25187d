"""Live streaming: sensors send PCM over a websocket; windows are scored as the audio arrives.

The protocol, for people and for every client (the edge agent ``outcry.agent``, the browser
microphone page, third-party devices), is ``PROTOCOL.md`` beside this file, served at
``/api/docs/streaming/``. In short: a text hello ``{"type": "hello", "key" | "token", "sample_rate",
"format", "channels", "agent"}``, the server's ``ready``, then binary PCM frames of at most one
second; ``status`` messages come back every second; refusals close with 4400 (bad hello or frame),
4401 (key), 4403 (site paused or retired), 4408 (no hello), 4409 (replaced), 4413 (frame too big),
4429 (flood).

- ``protocol``: constants, close codes, hello validation.
- ``buffer``: PCM decoding, a continuous resampler to 16 kHz, the ring buffer.
- ``session``: windows due for scoring (bounded queue, oldest dropped), events from scores.
- ``scoring``: the scoring threads, batching windows across every stream of the process.
- ``consumer``: the websocket; scores in the web process (why not Celery: see its docstring).
- ``services``/``tasks``: stream segments, detections, sensor health, the offline sweep.
- ``tokens``/``api``/``urls``: short-lived stream tokens for browser pages, the protocol page.
- ``bench``: onset-to-alert latency and real-time capacity (``python -m detection.streaming.bench``).
"""
