"""OpenAI organization usage and costs: 11 endpoints, typed pagers and normalized records."""

from ._client import DEFAULT_BASE_URL, ENV_VAR, AsyncOpenAIClient, OpenAIClient
from ._endpoints import ENDPOINTS, SOURCE_NAMES, Endpoint, Metric
from ._models import (
    OpenAIAudioSpeechesResult,
    OpenAIAudioTranscriptionsResult,
    OpenAIBucket,
    OpenAICodeInterpreterSessionsResult,
    OpenAICompletionsResult,
    OpenAICostAmount,
    OpenAICostsResult,
    OpenAIEmbeddingsResult,
    OpenAIFileSearchCallsResult,
    OpenAIImagesResult,
    OpenAIModerationsResult,
    OpenAIPage,
    OpenAIResult,
    OpenAIVectorStoresResult,
    OpenAIWebSearchCallsResult,
)
from ._normalize import bucket_records, page_records
from ._resources import AsyncUsage, Usage

__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "ENV_VAR",
    "SOURCE_NAMES",
    "AsyncOpenAIClient",
    "AsyncUsage",
    "Endpoint",
    "Metric",
    "OpenAIAudioSpeechesResult",
    "OpenAIAudioTranscriptionsResult",
    "OpenAIBucket",
    "OpenAIClient",
    "OpenAICodeInterpreterSessionsResult",
    "OpenAICompletionsResult",
    "OpenAICostAmount",
    "OpenAICostsResult",
    "OpenAIEmbeddingsResult",
    "OpenAIFileSearchCallsResult",
    "OpenAIImagesResult",
    "OpenAIModerationsResult",
    "OpenAIPage",
    "OpenAIResult",
    "OpenAIVectorStoresResult",
    "OpenAIWebSearchCallsResult",
    "Usage",
    "bucket_records",
    "page_records",
]
