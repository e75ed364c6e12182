"""Write the sample data in examples/ (deterministic; the files it writes are committed).

The voice: Nora Lind, a fictional solo founder building "Patchbay", a small uptime-monitoring
product, posting about shipping software. Short hooks, line breaks, bullet lists, numbers, no
corporate fluff. The corpus also holds what a real export holds: exact and near duplicates,
URLs, @mentions, retweets, replies, "!!!", posts too short to learn from, and a couple of rows
with broken engagement values.

    python examples/make_examples.py    # rewrites posts.csv, tweets.js, Shares.csv, persona_alpaca.json
"""

from __future__ import annotations

import csv
import json
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
AUTHOR = "Nora Lind"
SCRAPED_AT = datetime(2025, 12, 15, 9, 0, tzinfo=timezone.utc)

# topic, hook, contrarian take, four specific points, a mistake, a one-line takeaway, popularity
TOPICS = [
    ("pricing", "I doubled my prices. Nobody left.", "Cheap plans attract the customers who churn first.",
     ["Raised the starter plan from $9 to $19", "Emailed every customer a week before", "Grandfathered nobody",
      "Lost 2 accounts, gained $1.4k MRR"], "I priced for people who would never pay.",
     "Charge for the value, not for your fear.", 0.5),
    ("onboarding", "Most users quit in the first 90 seconds.", "Your onboarding checklist is a to-do list nobody asked for.",
     ["Cut signup to one field", "Created the first monitor for them", "Showed a real alert in minute one",
      "Activation went from 31% to 58%"], "I built a 7-step product tour.", "Get them to the first win. Then talk.", 0.4),
    ("shipping on Fridays", "I ship on Fridays. On purpose.", "Friday deploy freezes hide a testing problem.",
     ["Small diffs only", "Feature flags on everything", "Rollback is one command", "I stay online for an hour after"],
     "I once froze deploys for a month and shipped a monster PR.", "Make deploys boring and every day is fine.", 0.6),
    ("churn", "Churn is a message. Read it.", "Most churn is an onboarding bug wearing a disguise.",
     ["I call every churned customer", "Half never set up alerts", "A quarter outgrew us", "The rest found it too noisy"],
     "I used to send an automated 'sorry to see you go' email.", "Talk to the people who leave.", 0.4),
    ("cold email", "I sent 200 cold emails. 11 replied.", "Personalised templates are still templates.",
     ["Wrote each one by hand", "Mentioned a real outage they had", "Asked one question", "No links in the first email"],
     "My first batch opened with 'I hope this finds you well'.", "Be specific or be ignored.", 0.3),
    ("documentation", "Nobody reads your docs. They search them.", "Long docs are a UX bug.",
     ["Every page answers one question", "Copy-paste examples first", "Error messages link to the fix",
      "Support tickets dropped by a third"], "I wrote docs like a novel, front to back.", "Write docs for the search bar.", 0.3),
    ("side projects", "Side projects die in the settings page.", "You don't need auth for your first ten users.",
     ["Skip the admin panel", "Hardcode the config", "Ship the one feature that matters", "Add polish when someone pays"],
     "I spent three weekends on a theme switcher.", "Build the thing, not the scaffolding.", 0.5),
    ("burnout", "I stopped working weekends. Revenue went up.", "Hustle is not a strategy.",
     ["Hard stop at 6pm", "No Slack on my phone", "One deep-work block a day", "Shipped more in Q3 than Q1 and Q2"],
     "I answered support tickets at midnight for a year.", "Rest is part of the work.", 0.7),
    ("customer support", "Support is my best marketing channel.", "Chatbots make support cheaper and customers angrier.",
     ["I answer every ticket myself", "Median reply: 14 minutes", "Every answer ends with a question",
      "Three tickets became features"], "I hid the support email behind a form.", "Answer fast. Answer like a human.", 0.4),
    ("feature requests", "I said no to my biggest customer.", "The loudest request is rarely the right one.",
     ["Asked what problem it solved", "Found a 10-line fix instead", "They stayed", "The roadmap stayed sane"],
     "I built a custom dashboard for one account. They churned anyway.", "Solve the problem, not the request.", 0.5),
    ("hiring", "My first hire was a mistake. Mine, not theirs.", "You don't need a team to grow. You need focus.",
     ["I hired before writing anything down", "No clear owner for anything", "Two months of overlap",
      "Now I write the job as a doc first"], "I hired because I was tired.", "Hire for a job you can describe.", 0.3),
    ("metrics", "I track exactly three numbers.", "Dashboards are where decisions go to die.",
     ["Weekly active monitors", "Trial-to-paid rate", "Time to first alert", "Everything else is noise"],
     "I had 40 charts and no idea what to do.", "Measure what you will act on.", 0.4),
    ("tech debt", "Tech debt isn't a sin. Ignoring it is.", "Rewrites are how good products die.",
     ["Fix debt in the code you touch", "Budget one day a sprint", "Delete more than you add", "Never rewrite from scratch"],
     "I rewrote the alert engine. It took four months.", "Pay debt where it charges interest.", 0.5),
    ("launch day", "Launch day got me 9 signups.", "Launches are overrated. Distribution isn't.",
     ["Posted on three sites", "Got 2,300 visits", "9 signups, 1 paid", "The blog post from month 2 still brings 40 a week"],
     "I waited six months for the perfect launch.", "Launch early, then launch again.", 0.6),
    ("testing", "I write tests for the scary parts only.", "100% coverage is a vanity metric.",
     ["Billing: fully tested", "Alert delivery: fully tested", "Settings page: barely", "Zero billing bugs in a year"],
     "I tested getters and setters and missed a double-charge bug.", "Test what would wake you up at 3am.", 0.4),
    ("remote work", "I work from a kitchen table. It's fine.", "You don't need an office to look serious.",
     ["One screen", "Noise-cancelling headphones", "A walk before the first call", "Calendar blocked until 11am"],
     "I rented a coworking desk I used twice a month.", "Spend on tools, not on appearances.", 0.3),
    ("writing online", "Writing online got me my first 100 customers.", "You don't need a content strategy. You need a habit.",
     ["One post a day for a year", "Wrote about what I shipped", "Never pitched in the post", "Replies became demos"],
     "I wrote SEO articles nobody finished.", "Write what you did, not what you think.", 0.7),
    ("analytics", "I deleted Google Analytics. Nothing broke.", "Most founders check analytics to feel busy.",
     ["Switched to a single events table", "Five events, that's it", "Weekly review on Mondays", "Page load got 300ms faster"],
     "I checked real-time visitors twenty times a day.", "Fewer numbers, better decisions.", 0.3),
    ("open source", "Open-sourcing our agent got us 40 customers.", "Open source is a distribution channel, not charity.",
     ["The agent is MIT", "The dashboard is paid", "Issues become sales conversations", "Contributors found two bugs"],
     "I kept the agent closed out of fear.", "Give away the part that builds trust.", 0.5),
    ("free trials", "I killed the free plan. Signups halved. Revenue doubled.", "Free plans are support tickets with no revenue.",
     ["14-day trial, card required", "Half the signups", "Trial-to-paid from 4% to 22%", "Support load down 60%"],
     "I kept a free plan for 'goodwill'.", "Free users are not customers yet.", 0.6),
    ("incidents", "We went down for 47 minutes. Here's the postmortem.", "Hiding outages costs more than the outage.",
     ["A certificate expired", "Our own monitor caught it", "I posted status updates every 10 minutes",
      "Two customers upgraded after"], "I once fixed an outage quietly and hoped nobody noticed.", "Own it in public.", 0.6),
    ("focus", "I said no to 11 ideas this month.", "Your roadmap is too long.",
     ["One big bet per quarter", "Everything else goes in a doc", "The doc is reviewed monthly", "Most ideas die there. Good."],
     "I ran three projects at once and finished none.", "Focus is a list of things you won't do.", 0.5),
    ("landing pages", "My landing page had 14 sections. Now it has 3.", "Nobody scrolls to your testimonials.",
     ["What it does", "Who it's for", "A button", "Conversion went from 1.8% to 4.1%"],
     "I copied a big company's homepage.", "Say it in one screen.", 0.5),
    ("code review", "I review my own PRs the next morning.", "Solo founders skip code review. That's the bug.",
     ["Open the PR at night", "Read it with coffee", "Half get smaller", "A quarter never merge"],
     "I merged a migration at 1am and lost a table.", "Sleep is the best reviewer.", 0.3),
    ("saying no", "The best feature I shipped was 'no'.", "Every yes is a maintenance bill.",
     ["No custom integrations", "No on-prem", "No white-labeling", "Support is calmer, product is sharper"],
     "I said yes to an on-prem deal. It ate a quarter.", "Protect the product from your politeness.", 0.4),
    ("ideas", "Ideas are cheap. Distribution is not.", "Nobody will steal your idea.",
     ["Share it early", "Talk to 20 people", "Build for the 3 who care", "Ignore the 17 who are polite"],
     "I kept Patchbay secret for six months.", "Tell everyone. Build for a few.", 0.4),
    ("MRR", "$10k MRR took 26 months. Here's the boring truth.", "There is no growth hack. There is a pile of small things.",
     ["Month 1-6: $0 to $400", "Month 7-14: $400 to $2.1k", "Month 15-26: $2.1k to $10k", "No single thing mattered most"],
     "I looked for one big channel for a year.", "Compound small wins.", 0.8),
    ("stack choices", "My stack is boring. That's the feature.", "Your users don't care about your framework.",
     ["Postgres", "One server-rendered app", "A queue", "Upgrades take an afternoon, not a month"],
     "I tried microservices for a one-person company.", "Choose boring, ship weekly.", 0.5),
    ("feedback", "I ask one question in every demo.", "Surveys tell you what people think they want.",
     ["'What did you try before this?'", "The answer is the competitor", "And the pricing anchor",
      "And the words for the landing page"], "I asked 'would you use this?' Everyone said yes.", "Ask about the past, not the future.", 0.4),
    ("naming", "I renamed the product. Signups went up 30%.", "Clever names cost you search traffic.",
     ["Old name: a pun", "New name: says what it does", "Domain cost $900", "Paid back in a month"],
     "I picked the name because the .com was free.", "Clear beats clever.", 0.3),
    ("automation", "I automated myself out of 10 hours a week.", "Automate the boring work before hiring for it.",
     ["Invoices send themselves", "Trial reminders are scheduled", "Status page updates from the monitor",
      "Weekly report writes itself"], "I did invoices by hand for a year.", "Automate what repeats.", 0.4),
    ("competition", "A funded competitor launched. I slept fine.", "Competition means the market is real.",
     ["They went upmarket", "I stayed simple", "Their pricing page made mine look cheap", "Best signup week of the year"],
     "I used to copy every competitor feature.", "Be the obvious choice for someone.", 0.5),
]

ARCHETYPES = ("story", "lessons", "contrarian", "before_after", "numbers", "one_liner", "mistake", "question",
              "thread", "checklist")
ARCHETYPE_BONUS = {"story": 0.4, "lessons": 0.5, "contrarian": 0.6, "before_after": 0.3, "numbers": 0.5,
                   "one_liner": -0.3, "mistake": 0.4, "question": 0.1, "thread": 0.2, "checklist": 0.0}
CLOSERS = ("Ship it.", "That's the whole trick.", "Simple, not easy.", "Back to building.", "Lesson learned.")


def render(archetype: str, topic: tuple, rng: random.Random) -> str:
    name, hook, take, points, mistake, takeaway, _ = topic
    bullet = rng.choice(["-", "→", "•"])
    bullets = "\n".join(f"{bullet} {p}" for p in points)
    if archetype == "story":
        return f"{hook}\n\nHere's what happened:\n\n{bullets}\n\n{takeaway}"
    if archetype == "lessons":
        numbered = "\n".join(f"{i}. {p}" for i, p in enumerate(points, 1))
        return f"4 things I learned about {name}:\n\n{numbered}\n\n{takeaway}"
    if archetype == "contrarian":
        return f"Unpopular opinion:\n\n{take}\n\nWhat I do instead:\n\n{bullets}\n\n{rng.choice(CLOSERS)}"
    if archetype == "before_after":
        return (f"{name.capitalize()}, a year ago:\n\n{bullet} {mistake}\n\n{name.capitalize()}, today:\n\n"
                f"{bullet} {points[0]}\n{bullet} {points[-1]}\n\n{takeaway}")
    if archetype == "numbers":
        return f"{name.capitalize()}, by the numbers:\n\n{bullets}\n\nNo magic. {takeaway}"
    if archetype == "one_liner":
        return f"{take}\n\n{takeaway}"
    if archetype == "mistake":
        return f"Biggest mistake I made with {name}:\n\n{mistake}\n\nThe fix:\n\n{bullets}\n\n{takeaway}"
    if archetype == "question":
        return f"How do you handle {name}?\n\nWhat worked for me:\n\n{bullets}\n\nWhat would you add?"
    if archetype == "thread":
        return (f"{takeaway}\n\nI learned it the hard way.\n{mistake}\n\n{points[0]}.\n{points[1]}.\n\n"
                f"{rng.choice(CLOSERS)}")
    return f"My {name} checklist:\n\n" + "\n".join(f"✅ {p}" for p in points) + f"\n\n{rng.choice(CLOSERS)}"


def engagement(score: float, followers: int, rng: random.Random) -> dict:
    likes = int(math.exp(rng.gauss(3.2 + score + followers / 9000, 0.55)))
    return {"likes": likes, "comments": int(likes * rng.uniform(0.04, 0.22)), "reposts": int(likes * rng.uniform(0.01, 0.1)),
            "impressions": int(likes * rng.uniform(30, 90))}


def posts_rows(rng: random.Random) -> list[dict]:
    posts = []
    for t_index, topic in enumerate(TOPICS):
        for archetype in ARCHETYPES:
            posts.append((render(archetype, topic, rng), ARCHETYPE_BONUS[archetype] + topic[-1]))
    rng.shuffle(posts)
    posts = posts[:300]
    # The noise a real export has, applied to copies of real posts or added as extra rows.
    for i in range(0, 40, 4):
        text, score = posts[i]
        posts[i] = (text + f"\n\nFull write-up: https://patchbay.example/blog/{i}-notes", score)
    for i in range(1, 33, 4):
        text, score = posts[i]
        posts[i] = (text + rng.choice(["\n\nThanks @samwise_dev for the push.", "\n\nh/t @maria_builds",
                                       "\n\nInspired by a chat with @devon_k."]), score)
    for i in range(2, 42, 5):
        text, score = posts[i]
        first, _, rest = text.partition("\n")
        posts[i] = (first.rstrip(".:?") + "!!!\n" + rest, score)
    rows = []
    start = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
    for n, (text, score) in enumerate(posts):
        posted = start + timedelta(days=n * 1.1, hours=rng.randint(0, 9))
        followers = 4000 + n * 26
        rows.append({"text": text, **engagement(score, followers, rng), "followers": followers,
                     "posted_at": posted.isoformat(), "scraped_at": SCRAPED_AT.isoformat(), "author": AUTHOR,
                     "url": f"https://social.example/noralind/posts/{1000 + n}"})
    extra = []
    for i in (3, 17, 42, 77, 120, 201):  # exact duplicates (reposted later, other engagement)
        extra.append({**rows[i], **engagement(0.0, rows[i]["followers"], rng), "url": rows[i]["url"] + "-repost"})
    for i, edit in zip((5, 23, 61, 88, 140, 175, 222, 260),
                       ("🚀", "\n\nThoughts?", " (still true)", "\n\nAgree?", "🔥", " Every time.", "\n\n#buildinpublic", "👇")):
        extra.append({**rows[i], "text": rows[i]["text"] + edit, "url": rows[i]["url"] + "-v2"})  # near duplicates
    for handle, body in (("indiehackers", "The best founders write every day. Not for reach. For clarity."),
                         ("patio11", "Charge more. No, more than that."),
                         ("levelsio", "Ship the ugly version first and fix it live."),
                         ("swyx", "Learn in public. The compounding is unreal."),
                         ("dhh", "Boring technology is a competitive advantage."),
                         ("paulg", "Do things that don't scale, for longer than feels right.")):
        extra.append({**rows[rng.randrange(300)], "text": f"RT @{handle}: {body}", "url": ""})
    for handle, body in (("devon_k", "totally agree, the first alert is the aha moment for us too"),
                         ("maria_builds", "ha, we did the exact same thing with our free plan"),
                         ("samwise_dev", "yes!! and write the changelog before the code"),
                         ("jules_ops", "we moved to card-required trials last year, same result"),
                         ("tobi_ships", "this is the way. small diffs, boring deploys"),
                         ("kat_codes", "saving this for my next pricing change")):
        extra.append({**rows[rng.randrange(300)], "text": f"@{handle} {body}", "url": ""})
    for body in ("Shipping today.", "gm", "New post up!!!", "Back to building.", "Alerts fixed."):
        extra.append({**rows[rng.randrange(300)], "text": body})
    extra.append({**rows[10], "text": "Pricing is a feature. Treat it like one.\n\nTest it. Ship it. Iterate.", "likes": "n/a"})
    extra.append({**rows[11], "text": "Your changelog is marketing.\n\nWrite it like someone will read it.", "comments": "lots"})
    for row in extra:  # spread the extras through the file, as an export would
        rows.insert(rng.randrange(len(rows) + 1), row)
    return rows


TWEETS = [
    ("Tiny teams win by saying no.\n\nNo to custom work.\nNo to on-prem.\nNo to meetings without an agenda.", 210, 31, None),
    ("Shipped status pages today.\n\n→ 40 lines of config\n→ 0 new servers\n→ 1 happy customer already", 184, 22, None),
    ("Your first 10 customers won't come from ads.\n\nThey come from replies, DMs and showing up.", 320, 58, None),
    ("Deploy count this week: 23.\nIncidents: 0.\n\nSmall diffs are a superpower.", 150, 14, None),
    ("RT @levelsio: Ship the ugly version first and fix it live.", 0, 900, None),
    ("@devon_k yes, the first alert is the aha moment", 4, 0, "1799912"),
    ("Read the postmortem here https://t.co/x1Ab2Cd3 -- 47 minutes, one expired certificate, lots of lessons", 95, 12, None),
    ("I stopped checking analytics daily.\n\nWeekly is enough.\nDaily is anxiety.", 260, 19, None),
    ("Pricing page rewrite:\n\n- 3 plans, not 5\n- annual toggle on by default\n- one FAQ answer per objection", 140, 17, None),
    ("Boring stack, happy life.\n\nPostgres. One app. One queue.", 175, 21, None),
    ("@maria_builds thanks! more soon", 3, 0, "1799950"),
    ("Free plan gone. Trials need a card now.\n\nSignups: down 48%.\nRevenue: up 2x.", 410, 77, None),
    ("Talk to the users who leave.\n\nThey tell you what the ones who stay won't. https://t.co/Zz9Yy8Xx", 120, 9, None),
    ("26 months to $10k MRR.\n\nNo hacks. Just a pile of small things done every week.", 530, 96, None),
    ("Docs tip: every error message should link to the page that fixes it.", 88, 10, None),
]

SHARES = [
    ("2025-03-02 08:14:11", "I doubled Patchbay's prices last month.\n\nHere's what happened:\n\n- 2 customers left\n- 31 stayed\n"
     "- MRR up $1.4k\n\nCharge for the value, not for your fear."),
    ("2025-03-19 17:40:02", "We went down for 47 minutes on Tuesday.\n\nWhat I did:\n\n→ status updates every 10 minutes\n"
     "→ a public postmortem the same day\n→ a credit for every affected account\n\nOwn it in public."),
    ("2025-04-07 07:55:20", "Unpopular opinion: you don't need a content strategy.\n\nYou need a habit.\n\n"
     "One post a day. About what you shipped. For a year."),
    ("2025-05-12 12:03:44", "Hiring lesson I learned the hard way:\n\nWrite the job down before you hire for it.\n\n"
     "If you can't describe it, nobody can do it."),
    ("2025-06-01 09:30:00", "3 numbers I check every Monday:\n\n1. Weekly active monitors\n2. Trial-to-paid\n"
     "3. Time to first alert\n\nEverything else is noise."),
    ("2025-07-22 15:12:09", "Said no to an on-prem deal worth $30k.\n\nBest decision of the year.\n\n"
     "Every yes is a maintenance bill."),
    ("2025-08-14 10:45:51", "Our open-source agent just passed 1,000 stars.\n\nIt brought 40 paying customers.\n\n"
     "Give away the part that builds trust. Thanks @samwise_dev for the first PR!"),
    ("2025-09-03 08:00:00", "Onboarding used to take 7 steps.\n\nNow it takes one field.\n\nActivation: 31% → 58%.\n\n"
     "Get them to the first win. Then talk."),
    ("2025-10-10 18:20:33", "Burnout check:\n\n- hard stop at 6pm\n- no Slack on my phone\n- one deep-work block a day\n\n"
     "Shipped more this quarter than the two before it."),
    ("2025-11-28 11:11:11", "Read the full story: https://patchbay.example/blog/10k-mrr\n\n26 months. $10k MRR. No hacks."),
]

# The persona: Old Tamsin, a retired lighthouse keeper who answers questions about software in short,
# salty sentences, with a sea metaphor, and always signs off with the weather.
PERSONA = [
    ("How do I start learning to code?", "Pick one small boat and learn to row it. One language, one project, every day."),
    ("Should I use microservices?", "One sturdy ship beats a fleet of dinghies you can't crew. Start with one app."),
    ("How do I write good commit messages?", "Log it like a ship's log. What changed, why, and what to watch."),
    ("What is technical debt?", "Barnacles on the hull. A few slow you down. Leave them a year and you're not sailing."),
    ("How do I deal with a production outage?", "Light the lamp first, then find the leak. Tell the harbour what you know, every few minutes."),
    ("Is it worth writing tests?", "Test the rigging that holds the mast. Nobody drowned from an untested flag."),
    ("How do I get better at debugging?", "Read the water before you blame the wind. Reproduce it, then change one thing at a time."),
    ("What's the best programming language?", "The one your crew can sail. A fine ship with no sailors stays in port."),
    ("How do I stay motivated on a side project?", "Set a near harbour, not a far continent. Ship something small each week."),
    ("How do I ask for a raise?", "Bring your log book. Show the storms you steered through, then name your number."),
    ("Should I rewrite our legacy system?", "You don't sink a ship to fix a leak. Replace a plank at a time."),
    ("How do I review code well?", "Check the knots, not the paint. Correctness first, style last."),
    ("How do I handle a difficult coworker?", "Some gulls squawk at every boat. Talk plainly, in private, about one thing."),
    ("What makes a good API?", "A good chart. Clear names, no surprises, and it warns you before the rocks."),
    ("How do I learn a new codebase?", "Walk the deck before you touch the helm. Read the entry points, run it, follow one request."),
    ("How many hours should I work?", "A tired keeper lets the lamp go out. Eight good hours beat twelve foggy ones."),
    ("Should I learn Rust?", "Learn it if you need a hull that never leaks. It's heavy to row at first."),
    ("How do I write documentation people read?", "Put the answer on the first page, like the tide table by the door."),
    ("What's the point of code comments?", "Mark the rocks, not the water. Explain why, the code already says what."),
    ("How do I prepare for a technical interview?", "Practise in calm water so you don't panic in a squall. Talk through your thinking out loud."),
    ("How do I estimate how long a task takes?", "Guess, then double it for weather. The sea always has an opinion."),
    ("Is it okay to copy code from the internet?", "Borrowed rope is fine if you test the knot. Understand it before you trust it."),
    ("How do I choose a database?", "Postgres, unless you have a reason you can say out loud. Don't buy a submarine to cross a pond."),
    ("Should I go to a bootcamp?", "A short voyage with a good captain can teach a lot. But you learn to sail by sailing."),
    ("How do I stop procrastinating?", "Untie one rope. Starting is the hard part; the tide does the rest."),
    ("What do senior engineers do differently?", "They smell the storm a day early, and they say no to trips the boat can't make."),
    ("How do I handle on-call?", "Keep the lamp trimmed before night falls. Good alerts, clear runbooks, and sleep when you can."),
    ("What is continuous integration?", "Checking the hull every time someone adds a plank, not once a season."),
    ("How do I make my app faster?", "Find where the water's coming in before you bail. Measure, then fix the biggest leak."),
    ("Should I use a framework?", "Use a hull someone else tested. Build your own only if the sea demands it."),
    ("How do I deal with impostor syndrome?", "Every keeper feared the first storm. You're still here. That counts."),
    ("What is a code smell?", "Fish left in the hold. It isn't sinking you, but something's gone off."),
    ("How do I write a good bug report?", "Say where you were, what you saw, what you expected. Coordinates, not poetry."),
    ("Should I work at a startup or a big company?", "A small boat teaches you every rope. A big ship teaches you to crew."),
    ("How do I name variables?", "Name things like buoys: plain, visible, and they tell you where you are."),
    ("How do I keep my skills up to date?", "Walk the shore every morning. A little reading each day, not a flood once a year."),
    ("What is refactoring?", "Re-stowing the hold so you can find the rope in a hurry. Same cargo, better order."),
    ("How do I give feedback to a junior developer?", "Stand beside them at the helm. Point at the rocks, don't grab the wheel."),
    ("Is pair programming worth it?", "Two on the oars for rough water. One is plenty on a calm morning."),
    ("How do I handle scope creep?", "Every extra barrel sinks the boat a little. Write down what you're carrying and guard it."),
    ("What should I put in a README?", "What it is, how to launch it, how to bring it back to harbour. In that order."),
    ("How do I secure my application?", "Lock the hatches you know about, then assume the sea finds the rest. Least privilege, patched, logged."),
    ("How do I stop overengineering?", "You're building a rowing boat, not the navy. Solve today's crossing."),
    ("Should I use AI coding tools?", "A good compass, not a captain. Check its heading against the stars."),
    ("How do I plan a project?", "Chart the harbours, not every wave. Milestones you can see from the deck."),
    ("Why is naming so hard?", "Because the name is the chart other sailors use. Get it wrong and they hit the rocks."),
    ("How do I deal with legacy code without tests?", "Sound the depth before you sail. Write a test around what it does today, then change it."),
    ("What is a good first open source contribution?", "Fix a loose plank in the docs. Small, useful, and the crew says thank you."),
    ("How do I manage my time as a developer?", "Tide times for deep work, harbour hours for meetings. Don't mix them."),
    ("What's the best way to learn algorithms?", "Knots before voyages. Learn the common ones by hand until your fingers know them."),
    ("How do I know when to ship?", "When it floats and steers. Paint it later."),
    ("How do I handle a failed deployment?", "Turn back to harbour, no shame in it. Roll back first, ask questions after."),
    ("How do I become a better writer as an engineer?", "Short sentences, like orders on deck. Nobody reads a paragraph in a gale."),
    ("Should I specialise or be a generalist?", "Know every rope a little and one rope very well."),
    ("How do I work with product managers?", "They read the charts, you sail the boat. Agree on the harbour, argue about the route."),
    ("What is observability?", "Windows in the hull. You see the leak before it reaches your boots."),
    ("How do I get my first developer job?", "Show them boats you've built. A small project that works beats a long list of courses."),
    ("How do I avoid burnout?", "A lamp burns all night, not all year. Keep fuel in the tank and take your days off."),
    ("Why do projects run late?", "Everyone charts the crossing in calm weather. Plan for fog."),
    ("How do I make meetings useful?", "Say why you've gathered the crew, decide, and get back on deck."),
    ("What's a good way to learn Git?", "Learn to drop anchor and to pull it up: commit, branch, merge. The rest comes with weather."),
    ("How do I handle criticism of my code?", "The sea criticises every boat. Take the useful part and patch the hull."),
    ("What is the cloud?", "Somebody else's harbour. Convenient, but read the mooring fees."),
    ("How do I keep a project simple?", "Fewer sails, fewer tangles. Add one only when the wind demands it."),
]
OPENERS = ("Listen here.", "Aye.", "Sit down, sailor.", "Hm.", "Right then.", "Here's the tide of it.")
WEATHER = ("Wind's from the north. Bring a coat.", "Fog rolling in. Mind the rocks.", "Calm sea tonight. Good for thinking.",
           "Gale by morning. Batten down.", "Clear skies. Go ship something.", "Drizzle. Kettle's on.")


def main() -> None:
    rng = random.Random(7)
    rows = posts_rows(rng)
    columns = ["text", "likes", "comments", "reposts", "impressions", "followers", "posted_at", "scraped_at", "author", "url"]
    with open(HERE / "posts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    tweets = []
    base = datetime(2025, 2, 1, 14, 0, tzinfo=timezone.utc)
    for n, (text, likes, retweets, reply_to) in enumerate(TWEETS):
        tweet = {"id_str": str(1800000 + n), "full_text": text, "favorite_count": str(likes),
                 "retweet_count": str(retweets),
                 "created_at": (base + timedelta(days=9 * n)).strftime("%a %b %d %H:%M:%S +0000 %Y")}
        if reply_to:
            tweet["in_reply_to_status_id_str"] = reply_to
        tweets.append({"tweet": tweet})
    (HERE / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps(tweets, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")

    with open(HERE / "Shares.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
        for n, (date, text) in enumerate(SHARES):
            writer.writerow([date, f"https://www.linkedin.com/feed/update/urn:li:share:{7000 + n}", text, "", "", "MEMBERS"])

    persona = [{"instruction": q, "input": "",
                "output": f"{OPENERS[i % len(OPENERS)]} {a} {WEATHER[(i * 5) % len(WEATHER)]}"}
               for i, (q, a) in enumerate(PERSONA)]
    (HERE / "persona_alpaca.json").write_text(json.dumps(persona, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"posts.csv: {len(rows)} rows; tweets.js: {len(tweets)}; Shares.csv: {len(SHARES)}; "
          f"persona_alpaca.json: {len(persona)} pairs")


if __name__ == "__main__":
    main()
