window.YTD.tweets.part0 = [
  {
    "tweet": {
      "id_str": "1800000",
      "full_text": "Tiny teams win by saying no.\n\nNo to custom work.\nNo to on-prem.\nNo to meetings without an agenda.",
      "favorite_count": "210",
      "retweet_count": "31",
      "created_at": "Sat Feb 01 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800001",
      "full_text": "Shipped status pages today.\n\n→ 40 lines of config\n→ 0 new servers\n→ 1 happy customer already",
      "favorite_count": "184",
      "retweet_count": "22",
      "created_at": "Mon Feb 10 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800002",
      "full_text": "Your first 10 customers won't come from ads.\n\nThey come from replies, DMs and showing up.",
      "favorite_count": "320",
      "retweet_count": "58",
      "created_at": "Wed Feb 19 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800003",
      "full_text": "Deploy count this week: 23.\nIncidents: 0.\n\nSmall diffs are a superpower.",
      "favorite_count": "150",
      "retweet_count": "14",
      "created_at": "Fri Feb 28 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800004",
      "full_text": "RT @levelsio: Ship the ugly version first and fix it live.",
      "favorite_count": "0",
      "retweet_count": "900",
      "created_at": "Sun Mar 09 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800005",
      "full_text": "@devon_k yes, the first alert is the aha moment",
      "favorite_count": "4",
      "retweet_count": "0",
      "created_at": "Tue Mar 18 14:00:00 +0000 2025",
      "in_reply_to_status_id_str": "1799912"
    }
  },
  {
    "tweet": {
      "id_str": "1800006",
      "full_text": "Read the postmortem here https://t.co/x1Ab2Cd3 -- 47 minutes, one expired certificate, lots of lessons",
      "favorite_count": "95",
      "retweet_count": "12",
      "created_at": "Thu Mar 27 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800007",
      "full_text": "I stopped checking analytics daily.\n\nWeekly is enough.\nDaily is anxiety.",
      "favorite_count": "260",
      "retweet_count": "19",
      "created_at": "Sat Apr 05 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800008",
      "full_text": "Pricing page rewrite:\n\n- 3 plans, not 5\n- annual toggle on by default\n- one FAQ answer per objection",
      "favorite_count": "140",
      "retweet_count": "17",
      "created_at": "Mon Apr 14 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800009",
      "full_text": "Boring stack, happy life.\n\nPostgres. One app. One queue.",
      "favorite_count": "175",
      "retweet_count": "21",
      "created_at": "Wed Apr 23 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800010",
      "full_text": "@maria_builds thanks! more soon",
      "favorite_count": "3",
      "retweet_count": "0",
      "created_at": "Fri May 02 14:00:00 +0000 2025",
      "in_reply_to_status_id_str": "1799950"
    }
  },
  {
    "tweet": {
      "id_str": "1800011",
      "full_text": "Free plan gone. Trials need a card now.\n\nSignups: down 48%.\nRevenue: up 2x.",
      "favorite_count": "410",
      "retweet_count": "77",
      "created_at": "Sun May 11 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800012",
      "full_text": "Talk to the users who leave.\n\nThey tell you what the ones who stay won't. https://t.co/Zz9Yy8Xx",
      "favorite_count": "120",
      "retweet_count": "9",
      "created_at": "Tue May 20 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800013",
      "full_text": "26 months to $10k MRR.\n\nNo hacks. Just a pile of small things done every week.",
      "favorite_count": "530",
      "retweet_count": "96",
      "created_at": "Thu May 29 14:00:00 +0000 2025"
    }
  },
  {
    "tweet": {
      "id_str": "1800014",
      "full_text": "Docs tip: every error message should link to the page that fixes it.",
      "favorite_count": "88",
      "retweet_count": "10",
      "created_at": "Sat Jun 07 14:00:00 +0000 2025"
    }
  }
]
