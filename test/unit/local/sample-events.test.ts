import { describe, expect, it } from 'vitest';
import { happeningNow, sampleEvent } from '../../../services/local/sample-events.js';

describe('happeningNow: a sample event as CloudTrail would send it now', () => {
  const now = new Date('2026-12-07T18:30:45.678Z');

  it("sets the envelope's time and the CloudTrail eventTime to now, second precision as CloudTrail writes them", () => {
    const sample = sampleEvent('create-trail') as { time: string; detail: Record<string, unknown> };
    const event = happeningNow(sample, now) as typeof sample;
    expect(event.time).toBe('2026-12-07T18:30:45Z');
    expect(event.detail.eventTime).toBe('2026-12-07T18:30:45Z');
    expect({ ...event.detail, eventTime: sample.detail.eventTime }).toEqual(sample.detail);
    expect(sample.detail.eventTime).not.toBe(event.detail.eventTime);
  });

  it('adds no eventTime to an event whose detail has none (an alarm state change)', () => {
    const sample = sampleEvent('cis-alarm-state-change') as { detail: Record<string, unknown> };
    const event = happeningNow(sample, now) as typeof sample;
    expect(event.detail).toEqual(sample.detail);
    expect(event.detail).not.toHaveProperty('eventTime');
  });
});
