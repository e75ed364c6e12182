"""Public posts read over the network for ``data fetch``: the Bluesky AppView and Mastodon APIs, and
web pages rendered in headless Chromium (:mod:`.fetch` ties them together and writes the posts file
that the ``fetched`` source reads back)."""
