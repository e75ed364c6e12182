window.YTD.tweets.part0 = [
  {"tweet": {"full_text": "hello there"}},
  {oops}
]
