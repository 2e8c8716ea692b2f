"""A hand-made set of news for the story tests: one event told by several outlets in their own words
(and a copy), two unrelated reports, a later report of the same event, an undated report of it seen
long after, and an undated warning about the same dam seen before the event."""

from __future__ import annotations

FLOOD = [
    {
        "url": "https://rivernews.example/2024/05/06/lindau-flood-dam",
        "text": (
            "Floodwater breaks through Lindau dam, 400 residents evacuated\n\n"
            "The river Argen broke through the old earth dam at Lindau on Monday morning, flooding the "
            "Reutin district and forcing about 400 residents to leave their homes, the fire brigade said. "
            "Mayor Claudia Alfons said emergency shelters had been opened in two school gyms.\n\n"
            "The dam, built in 1962, had been due for repairs this summer. Engineers from the Bavarian "
            "water authority were inspecting the breach, which is about 30 metres wide. Rain is expected "
            "to continue until Wednesday."
        ),
    },
    {
        "url": "https://dailyalpine.example/2024/05/06/argen-breach",
        "text": (
            "Argen bursts its banks at Lindau as dam gives way\n\n"
            "About 400 people were evacuated from Reutin in Lindau after the Argen dam collapsed early on "
            "Monday. Claudia Alfons, the mayor, opened two school gyms as shelters.\n\n"
            "According to the Bavarian water authority the breach in the 1962 dam is some 30 metres wide; "
            "repairs had been planned for the summer. Forecasters expect more rain until Wednesday, and "
            "the fire brigade is filling sandbags along the Argen."
        ),
    },
    {
        "url": "https://bodensee-post.example/2024/05/07/lindau-evacuation-continues",
        "text": (
            "Lindau evacuation continues a day after Argen dam breach\n\n"
            "Residents of Reutin will not return home before Thursday, Lindau mayor Claudia Alfons said on "
            "Tuesday, a day after the Argen broke through the dam built in 1962. Around 400 people spent "
            "the night in school gyms.\n\n"
            "The Bavarian water authority said the 30-metre breach would be closed with steel sheets once "
            "the water level falls. More rain is forecast until Wednesday."
        ),
    },
]
# A copy of the first report on another site (a syndicated text): `duplicate_of`, same story.
COPY = {"url": "https://syndicate.example/2024/05/06/lindau-dam", "text": FLOOD[0]["text"]}
OTHERS = [
    {
        "url": "https://sportsdesk.example/2024/05/05/derby-draw",
        "text": (
            "Late goal earns a draw in the city derby\n\n"
            "A goal in the last minute of added time gave the visitors a draw in the city derby on Sunday. "
            "The coach, Marco Bellini, said his team had deserved more after dominating the second half, "
            "while the home captain blamed tired legs after three matches in eight days.\n\n"
            "The result leaves both clubs in the middle of the table with six games to play."
        ),
    },
    {
        "url": "https://sciencewire.example/2024/05/06/comet-spectrum",
        "text": (
            "Telescope finds water ice on a comet from the Oort cloud\n\n"
            "Astronomers using the James Webb Space Telescope have found water ice and carbon dioxide on a "
            "comet that came from the Oort cloud, a study published on Monday says. The comet, C/2023 K1, "
            "passed the Sun last year.\n\n"
            "The team led by Elena Ruiz said the spectrum suggests the comet formed far from the young Sun."
        ),
    },
]
# Next day, in a later run: it joins the existing story.
LATER = {
    "url": "https://rivernews.example/2024/05/08/lindau-residents-return",
    "text": (
        "Lindau residents return after Argen dam breach is closed\n\n"
        "The 400 residents of Reutin evacuated when the Argen broke through the Lindau dam on Monday "
        "returned home on Wednesday evening, mayor Claudia Alfons said. The Bavarian water authority closed "
        "the 30-metre breach in the 1962 dam with steel sheets.\n\n"
        "The fire brigade will keep the sandbags along the Argen until the rain stops."
    ),
}
# In the later run too, without a publication date (no date in its URL or text) and seen now, long
# after the event: an unknown date is missing evidence, so it joins the story all the same.
UNDATED = {
    "url": "https://lakeside-radio.example/news/reutin-evacuated",
    "text": (
        "Hundreds leave Reutin as Argen breaks Lindau dam\n\n"
        "Some 400 residents of the Reutin district of Lindau had to leave their homes after the river Argen "
        "broke through the town's old dam, mayor Claudia Alfons said. Two school gyms were opened as "
        "emergency shelters.\n\n"
        "The dam dates from 1962. The Bavarian water authority put the breach at about 30 metres; the fire "
        "brigade is laying sandbags and more rain is expected."
    ),
}
# Also undated, but a crawler saw it a year before the breach (`fetched_at`): a warning about the same
# dam in the same words, which cannot report an event that came after it. It stays a story of its own.
SEEN_BEFORE = {
    "url": "https://lakeside-radio.example/news/dam-repairs",
    "fetched_at": "2023-04-02T08:00:00Z",
    "text": (
        "Lindau dam on the Argen needs repairs, water authority warns\n\n"
        "The earth dam that protects the Reutin district of Lindau from the river Argen is in poor shape "
        "and must be repaired, the Bavarian water authority said. The dam, built in 1962, could give way "
        "in a flood, engineers warned; about 400 residents of Reutin live behind it.\n\n"
        "Mayor Claudia Alfons said repairs were planned for next summer and the fire brigade had practised "
        "an evacuation."
    ),
}
