"""The archive formats `vigile import` reads, by name: the command line lists them without
loading the readers."""

FORMATS = (
    "ytdlp",
    "twitchdownloader",
    "twitchdownloader-text",
    "chat-downloader",
    "irc",
    "text",
    "csv",
)
